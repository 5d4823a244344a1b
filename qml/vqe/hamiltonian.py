"""Molecular Hamiltonians as weighted Pauli sums, loaded from the JSON files in ``qml/vqe/data``.

Loading needs only numpy (the files are written by ``python -m qml.vqe.generate``, which
needs the ``[chem]`` extra). A Pauli label names one Pauli per wire, wire 0 first, in this
package's bit order (wire 0 is the most significant bit of a basis-state index).

Example:
    >>> from qml.vqe import load_hamiltonian
    >>> h2 = load_hamiltonian("h2")
    >>> h2.n_qubits, h2.mapping, round(h2.exact_energy, 6)
    (2, 'parity', -1.137306)
    >>> h2.hartree_fock_bits()
    [1, 0]
    >>> round(h2.hartree_fock_energy(), 6)
    -1.116999
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"
MAPPINGS = ("jordan_wigner", "parity")
_REQUIRED = ("name", "n_qubits", "terms", "constant", "exact_energy", "mapping",
             "two_qubit_reduction", "active_space", "basis", "geometry")
_LABEL = re.compile(r"[IXYZ]+")


def known_molecules() -> list[str]:
    """Names of the shipped Hamiltonians (the JSON files in ``qml/vqe/data``)."""
    return sorted(p.stem for p in DATA_DIR.glob("*.json"))


@dataclass(frozen=True, eq=False)
class Hamiltonian:
    """``H = sum_k c_k P_k + constant`` on ``n_qubits`` wires, with what it describes.

    ``terms``: ``(label, coefficient)`` pairs; ``constant``: nuclear repulsion plus the energy of
    the frozen (inactive) orbitals, in hartree; ``exact_energy``: the lowest eigenvalue of ``H``
    in the molecule's electron-number sector (``None`` while being generated); ``n_alpha``,
    ``n_beta``, ``n_spatial_orbitals``: the active space; ``mapping`` and
    ``two_qubit_reduction``: how spin orbitals became qubits (block spin order, alpha first);
    ``metadata``: the whole record (geometry, basis, versions, ...).
    """

    name: str
    terms: tuple[tuple[str, float], ...]
    constant: float
    exact_energy: float | None
    n_spatial_orbitals: int
    n_alpha: int
    n_beta: int
    mapping: str
    two_qubit_reduction: bool
    metadata: dict = field(default_factory=dict, repr=False)
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n_qubits(self) -> int:
        return len(self.terms[0][0])

    @property
    def pauli_sum(self):
        """The Pauli terms as a :class:`qml.PauliSum` (the constant left out)."""
        if "pauli_sum" not in self._cache:
            from qml.sim import PauliSum

            self._cache["pauli_sum"] = PauliSum([(c, p) for p, c in self.terms])
        return self._cache["pauli_sum"]

    def energy(self, states):
        """``<psi|H|psi> + constant`` of each state of a batch ``(batch, 2**n)``: shape ``(batch,)``."""
        from qml.sim import expval

        return expval(states, self.pauli_sum) + self.constant

    # --- basis states and exact diagonalisation (numpy; scipy for large sectors) ---------------

    def occupations(self):
        """``(alpha, beta)``: electron numbers of every basis state, two int arrays of ``2**n``."""
        import numpy as np

        n, m = self.n_qubits, self.n_spatial_orbitals
        idx = np.arange(2 ** n)
        bits = (idx[:, None] >> np.arange(n - 1, -1, -1)) & 1          # (2**n, n), wire 0 first
        if self.two_qubit_reduction:                                  # put back the fixed wires
            fixed = {m - 1: self.n_alpha % 2, 2 * m - 1: (self.n_alpha + self.n_beta) % 2}
            cols, k = [], 0
            for w in range(2 * m):
                if w in fixed:
                    cols.append(np.full(2 ** n, fixed[w]))
                else:
                    cols.append(bits[:, k])
                    k += 1
            bits = np.stack(cols, axis=1)
        if self.mapping == "parity":                                  # wire j: parity of modes 0..j
            bits = bits ^ np.concatenate([np.zeros((2 ** n, 1), dtype=bits.dtype), bits[:, :-1]], 1)
        return bits[:, :m].sum(1), bits[:, m:].sum(1)

    def sector(self):
        """Indices of the basis states with the molecule's ``n_alpha`` and ``n_beta``."""
        import numpy as np

        alpha, beta = self.occupations()
        return np.flatnonzero((alpha == self.n_alpha) & (beta == self.n_beta))

    def matrix(self, indices=None):
        """``H`` (constant included) as a scipy sparse matrix, restricted to ``indices`` if given."""
        import numpy as np
        from scipy import sparse

        n = self.n_qubits
        dim = 2 ** n
        idx = np.arange(dim)
        rows, cols, vals = [], [], []
        for label, c in self.terms:
            x = sum(1 << (n - 1 - w) for w, p in enumerate(label) if p in "XY")
            z = sum(1 << (n - 1 - w) for w, p in enumerate(label) if p in "ZY")
            parity = np.zeros(dim, dtype=np.int64)
            v = idx & z
            while v.any():
                parity ^= v & 1
                v = v >> 1
            phase = 1j ** bin(x & z).count("1")
            rows.append(idx ^ x)
            cols.append(idx)
            vals.append(c * phase * (1 - 2 * parity))
        h = sparse.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                              shape=(dim, dim)).tocsr()
        h = h + self.constant * sparse.identity(dim, format="csr")
        if indices is not None:
            h = h[indices][:, indices]
        return h

    def exact_ground_energy(self) -> float:
        """Lowest eigenvalue in the molecule's electron-number sector (constant included)."""
        import numpy as np

        h = self.matrix(self.sector())
        if h.shape[0] <= 2048:
            return float(np.linalg.eigvalsh(h.toarray())[0])
        from scipy.sparse.linalg import eigsh

        return float(eigsh(h, k=1, which="SA", tol=1e-12)[0][0])

    def hartree_fock_bits(self) -> list[int]:
        """The Hartree-Fock basis state, one bit per wire, in this Hamiltonian's mapping."""
        from qml.vqe.fermion import hartree_fock_bits

        return hartree_fock_bits(self.n_spatial_orbitals, self.n_alpha, self.n_beta, self.mapping,
                                 self.two_qubit_reduction)

    def hartree_fock_energy(self) -> float:
        """``<HF|H|HF>``: the diagonal terms at the Hartree-Fock bitstring, plus the constant."""
        bits = self.hartree_fock_bits()
        total = self.constant
        for label, c in self.terms:
            if set(label) <= {"I", "Z"}:
                total += c * (-1) ** sum(b for b, p in zip(bits, label) if p == "Z")
        return total

    # --- files ---------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, record: dict, source: str = "<dict>", require_exact: bool = True
                  ) -> "Hamiltonian":
        """Validate a JSON record; any problem is a ValueError naming ``source`` and the field."""
        def fail(problem: str):
            raise ValueError(f"{source}: {problem}")

        if not isinstance(record, dict):
            fail("expected a JSON object")
        missing = [k for k in _REQUIRED if k not in record and (require_exact or k != "exact_energy")]
        if missing:
            fail(f"missing field(s) {', '.join(missing)}")
        n = record["n_qubits"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            fail(f"n_qubits must be a positive integer, got {n!r}")
        terms = record["terms"]
        if not isinstance(terms, list) or not terms:
            fail("terms must be a non-empty list of [label, coefficient] pairs")
        parsed = []
        for i, term in enumerate(terms):
            if not (isinstance(term, (list, tuple)) and len(term) == 2):
                fail(f"term {i} must be a [label, coefficient] pair, got {term!r}")
            label, coeff = term
            if not isinstance(label, str) or not _LABEL.fullmatch(label):
                fail(f"term {i}: malformed Pauli label {label!r} (only I, X, Y, Z)")
            if len(label) != n:
                fail(f"term {i}: Pauli label {label!r} has {len(label)} characters, n_qubits is {n}")
            if not _finite(coeff):
                fail(f"term {i} ({label}): coefficient must be a finite number, got {coeff!r}")
            parsed.append((label, float(coeff)))
        for key in ("constant",) + (("exact_energy",) if require_exact else ()):
            if not _finite(record[key]):
                fail(f"{key} must be a finite number, got {record[key]!r}")
        mapping = record["mapping"]
        if mapping not in MAPPINGS:
            fail(f"mapping must be one of {MAPPINGS}, got {mapping!r}")
        reduction = record["two_qubit_reduction"]
        if not isinstance(reduction, bool) or (reduction and mapping != "parity"):
            fail(f"two_qubit_reduction must be true or false (true only with parity), got {reduction!r}")
        space = record["active_space"]
        try:
            n_alpha, n_beta = (int(v) for v in space["num_electrons"])
            n_spatial = int(space["num_spatial_orbitals"])
        except (KeyError, TypeError, ValueError):
            fail("active_space needs num_electrons [alpha, beta] and num_spatial_orbitals")
        if 2 * n_spatial - 2 * reduction != n:
            fail(f"{n_spatial} spatial orbitals under {mapping}"
                 f"{' with two-qubit reduction' if reduction else ''} give "
                 f"{2 * n_spatial - 2 * reduction} qubits, n_qubits is {n}")
        if not (0 <= n_alpha <= n_spatial and 0 <= n_beta <= n_spatial):
            fail(f"num_electrons {[n_alpha, n_beta]} do not fit in {n_spatial} spatial orbitals")
        exact = record.get("exact_energy")
        return cls(name=str(record["name"]), terms=tuple(parsed), constant=float(record["constant"]),
                   exact_energy=None if exact is None else float(exact),
                   n_spatial_orbitals=n_spatial, n_alpha=n_alpha, n_beta=n_beta, mapping=mapping,
                   two_qubit_reduction=reduction, metadata=dict(record))

    @classmethod
    def from_file(cls, path: str | Path) -> "Hamiltonian":
        path = Path(path)
        try:
            record = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err})") from None
        return cls.from_dict(record, source=str(path))


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def load_hamiltonian(name: str) -> Hamiltonian:
    """The shipped Hamiltonian of molecule ``name`` (case-insensitive), or of a JSON file path.

    An unknown name is a ValueError listing the known ones; a malformed file is a ValueError
    naming the file and the problem.
    """
    text = str(name)
    if text.endswith(".json") or "/" in text:
        return Hamiltonian.from_file(text)
    key = text.lower()
    known = known_molecules()
    if key not in known:
        raise ValueError(f"unknown molecule {name!r}; known molecules: {', '.join(known)}")
    return Hamiltonian.from_file(DATA_DIR / f"{key}.json")
