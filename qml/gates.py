"""Gate definitions: one self-describing record per gate.

A record gives the gate's name, number of wires and parameters, its matrix as data,
and the flags the simulator's fast kernels and the parameter-shift rule read.
Matrices follow this package's bit order: the first wire of a gate is the most
significant bit of the matrix index (qiskit is the reverse; :mod:`qml.interop` converts).

Every matrix entry of every gate here is ``coef * f1 * f2`` with each factor one of
``cK = cos(a_K)``, ``sK = sin(a_K)``, ``eK = exp(i a_K)``, ``fK = exp(-i a_K)`` of a few
angles ``a = W @ params``. So a gate is data: its angle map ``W`` and its entries, row by
row, each ``(coef, factor, ...)``. One evaluator, :class:`TrigTable`, builds the matrices
of one gate or of every gate of a circuit at once, with an exact analytic backward.

Example:
    >>> import torch
    >>> from qml.gates import GATES
    >>> GATES["ry"].matrix(torch.tensor([torch.pi])).real.round() + 0.0
    tensor([[ 0., -1.],
            [ 1.,  0.]])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache

import torch

TWO_TERM = "two-term"    # expectations have one frequency in this parameter
FOUR_TERM = "four-term"  # controlled rotation, eigenvalues {0, 0, +/-1/2}: two frequencies
_KINDS = "csef"          # factor kinds, in the order of the evaluator's table

Entry = tuple            # (coef, factor, ...): at most two factors such as "c0", "e2"


@dataclass(frozen=True)
class Gate:
    """One gate: everything the package knows about it.

    ``angles`` (K rows of per-parameter weights) and ``entries`` (row-major, one per
    matrix element) define the matrix. ``controls`` is the number of leading control
    wires (the matrix is ``diag(I, U)`` over them); ``diagonal`` marks gates whose
    matrices are diagonal for all parameters, ``perm`` the basis permutation of a 0/1
    permutation matrix (derived from the entries); ``real`` marks gates whose matrices
    are real for real parameters. ``frequencies`` gives, per parameter, the one frequency
    w of the matrix in it (1/2 for rotations exp(-i t/2 G), 1 for phases), from which
    follows the parameter-shift rule of expectations.

    Interop and drawing read the record too: ``qiskit`` lists the qiskit instruction names
    imported as this gate (the first is exported), ``qiskit_class`` the class of
    ``qiskit.circuit.library`` that builds it (called with the parameters, or with the
    number of controls for a multi-controlled X); a gate qiskit lacks gives its
    ``definition`` instead, ``((gate, wires, params), ...)`` up to ``definition_phase``.
    ``label`` is what a drawing shows on the target wires. ``takes_matrix`` marks the
    ``unitary`` family: a constant matrix carried by the op.
    """

    name: str
    n_wires: int
    n_params: int
    entries: tuple[Entry, ...]
    doc: str
    angles: tuple[tuple[float, ...], ...] = ()
    qiskit: tuple[str, ...] = ()
    qiskit_class: str | None = None
    label: str = ""
    controls: int = 0
    diagonal: bool = False
    perm: tuple[int, ...] | None = None
    real: bool = False
    frequencies: tuple[float, ...] = ()
    definition: tuple = ()
    definition_phase: float = 0.0
    takes_matrix: bool = False

    @property
    def permutation(self) -> bool:
        """A 0/1 permutation matrix: out[i] = in[perm[i]]."""
        return self.perm is not None

    @property
    def kernel(self) -> str:
        """The engine's kernel kind for this gate alone: "permutation", "diagonal" or "dense"."""
        return "permutation" if self.permutation else "diagonal" if self.diagonal else "dense"

    @property
    def shift_rules(self) -> tuple[str, ...]:
        """Parameter-shift rule per parameter: four terms for controlled half-angle rotations."""
        return tuple(FOUR_TERM if w == 0.5 and self.controls else TWO_TERM for w in self.frequencies)

    @cached_property
    def table(self) -> "TrigTable":
        return TrigTable([(self, list(range(self.n_params)))], self.n_params)

    def matrix(self, params: torch.Tensor) -> torch.Tensor:
        """Matrices for parameters of shape (..., n_params): shape (..., 2**k, 2**k), complex."""
        dim = 2 ** self.n_wires
        if not self.n_params:
            m = _fixed_matrix(self, torch.complex128 if params.dtype == torch.float64 else torch.complex64,
                              params.device)
            return m.expand(*params.shape[:-1], dim, dim) if params.dim() > 1 else m
        return self.table(params).reshape(*params.shape[:-1], dim, dim)


@lru_cache(maxsize=None)
def _fixed_matrix(gate: Gate, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """The matrix of a parameter-free gate; a permutation is built from its index."""
    dim = 2 ** gate.n_wires
    if gate.permutation:
        return torch.eye(dim, dtype=dtype, device=device)[list(gate.perm)]
    return torch.tensor([e[0] for e in gate.entries], dtype=dtype, device=device).reshape(dim, dim)


class TrigTable:
    """The matrix entries of many gates at once, from one vector of sources.

    Built from ``(gate, sources of each of its parameters)`` pairs, a parameter's sources
    being one source index or ``[(index, coefficient), ...]`` (the parameter is their
    linear combination); calling it on sources of shape (..., n_sources) returns every
    entry of every gate, concatenated in order, shape (..., total entries), as one
    autograd node.
    """

    def __init__(self, items, n_sources: int):
        rows, cols, weights, kinds, angles, coefs, k = [], [], [], [], [], [], 0
        for gate, sources in items:
            terms, kind, angle, coef = _form(gate)
            for row, j, w in terms:
                for source, c in ([(sources[j], 1.0)] if isinstance(sources[j], int) else sources[j]):
                    rows.append(k + row)
                    cols.append(source)
                    weights.append(w * c)
            kinds.append(kind)
            angles.append(angle + k)
            coefs.append(coef)
            k += len(gate.angles)
        if any(not 0 <= c < n_sources for c in cols):
            raise ValueError(f"a gate reads a source outside the {n_sources} given")
        self.k, self.n_sources = k, n_sources
        # each angle is a sparse weighted sum of sources; duplicate (row, col) pairs add up
        self.rows, self.cols = torch.tensor(rows, dtype=torch.int64), torch.tensor(cols, dtype=torch.int64)
        self.weights = torch.tensor(weights, dtype=torch.float64)
        kind, angle = (torch.cat(t) if t else torch.zeros(0, 2, dtype=torch.int64) for t in (kinds, angles))
        slots = torch.where(kind == len(_KINDS), 4 * k, kind * k + angle)    # kind 4: the constant 1
        self.first, self.second = slots.unbind(1)
        self.coef = torch.cat(coefs) if coefs else torch.zeros(0, dtype=torch.complex128)
        self.angle_of = torch.cat([torch.arange(k).repeat(4), torch.tensor([k])])  # slot -> angle (k: none)
        self._on: dict = {}

    def on(self, dtype: torch.dtype, device: torch.device) -> "_TableOn":
        key = (dtype, device)
        if key not in self._on:
            self._on[key] = _TableOn(self, dtype, device)
        return self._on[key]

    def __call__(self, sources: torch.Tensor) -> torch.Tensor:
        """Entries for sources (..., n_sources): shape (..., entries)."""
        lead = sources.shape[:-1]
        columns = sources.reshape(-1, sources.shape[-1]).T              # (n_sources, batch)
        return self.columns(columns).T.reshape(*lead, -1)

    def columns(self, sources: torch.Tensor) -> torch.Tensor:
        """Entries for sources laid out as columns (n_sources, batch): shape (entries, batch).

        Entries first is the fast layout: every gather then picks whole rows.
        """
        return _TrigValues.apply(sources, self)


@lru_cache(maxsize=None)
def _form(gate: Gate):
    """A gate's matrix as the evaluator reads it: angle terms (row, parameter, weight); the
    kinds and angle rows of each entry's two factors, (entries, 2) each (the constant 1 is
    kind 4); and the entries' coefficients."""
    terms = [(row, j, w) for row, weights in enumerate(gate.angles) for j, w in enumerate(weights) if w]
    pairs = [[(_KINDS.index(f[0]), int(f[1:])) for f in factors] + [(len(_KINDS), 0)] * (2 - len(factors))
             for _, *factors in gate.entries]
    slots = torch.tensor(pairs, dtype=torch.int64).reshape(-1, 2, 2)
    coefs = torch.tensor([complex(e[0]) for e in gate.entries], dtype=torch.complex128)
    return terms, slots[..., 0], slots[..., 1], coefs


#: Angles x sources up to this size are weighted by one dense product, larger tables sparsely.
DENSE_WEIGHTS = 2 ** 14


class _TableOn:
    """A table's index and weight tensors on one device and dtype, ready for evaluation."""

    def __init__(self, table: TrigTable, dtype: torch.dtype, device: torch.device):
        k = table.k
        cdtype = torch.complex128 if dtype == torch.float64 else torch.complex64
        self.k = k
        self.rows, self.cols = table.rows.to(device), table.cols.to(device)
        self.weights = table.weights.to(dtype=dtype, device=device)[:, None]
        self.dense = None
        if k * table.n_sources <= DENSE_WEIGHTS:
            self.dense = torch.zeros(k, table.n_sources, dtype=dtype).index_put_(
                (table.rows, table.cols), table.weights.to(dtype), accumulate=True).to(device)
        self.first, self.second = table.first.to(device), table.second.to(device)
        self.coef = table.coef.to(dtype=cdtype, device=device)[:, None]
        self.angle_of = table.angle_of[torch.cat([table.first, table.second])].to(device)
        # d/da of a factor is a factor times a constant: cos -> -sin, sin -> cos, e^{+-ia} -> +-i e^{+-ia}
        slot = torch.arange(4 * k + 1)
        kind = torch.where(slot == 4 * k, 4, slot // max(k, 1))          # kind 4: the constant 1
        angle = slot % max(k, 1)
        source = torch.stack([k + angle, angle, slot, slot, slot]).gather(0, kind[None])[0]
        factor = torch.tensor([-1, 1, 1j, -1j, 0], dtype=cdtype)[kind]
        self.d_first, self.d_second = source[table.first].to(device), source[table.second].to(device)
        self.d_first_factor = factor[table.first].to(device)[:, None]
        self.d_second_factor = factor[table.second].to(device)[:, None]
        self.n_sources = table.n_sources

    def angles(self, sources: torch.Tensor) -> torch.Tensor:
        if self.dense is not None:
            return self.dense @ sources
        return sources.new_zeros(self.k, sources.shape[1]).index_add_(0, self.rows, self.weights * sources[self.cols])

    def source_grad(self, grad_angles: torch.Tensor) -> torch.Tensor:
        if self.dense is not None:
            return self.dense.T @ grad_angles
        return grad_angles.new_zeros(self.n_sources, grad_angles.shape[1]).index_add_(
            0, self.cols, self.weights * grad_angles[self.rows])


def _factors(a: torch.Tensor) -> torch.Tensor:
    """F = [cos, sin, e^{ia}, e^{-ia}, 1] of every angle (rows)."""
    c, s = torch.cos(a), torch.sin(a)
    zero, zeros = a.new_zeros(1, *a.shape[1:]), torch.zeros_like(a)
    return torch.complex(torch.cat([c, s, c, c, zero + 1]), torch.cat([zeros, zeros, s, -s, zero]))


class _TrigValues(torch.autograd.Function):
    @staticmethod
    def forward(ctx, sources, table: TrigTable):
        on = table.on(sources.dtype, sources.device)
        f = _factors(on.angles(sources))                                    # (4K+1, batch)
        ctx.on = on
        ctx.save_for_backward(f)
        return on.coef * f.index_select(0, on.first) * f.index_select(0, on.second)

    @staticmethod
    def backward(ctx, grad):
        f, = ctx.saved_tensors
        on = ctx.on
        h = grad.conj() * on.coef
        f1, f2 = f.index_select(0, on.first), f.index_select(0, on.second)
        df1 = f.index_select(0, on.d_first) * on.d_first_factor
        df2 = f.index_select(0, on.d_second) * on.d_second_factor
        by_factor = torch.cat([(h * df1 * f2).real, (h * f1 * df2).real])
        grad_a = f.real.new_zeros(on.k + 1, f.shape[1]).index_add_(0, on.angle_of, by_factor)
        return on.source_grad(grad_a[:-1]), None


def _rows_entries(rows: list[list[complex]]) -> tuple[Entry, ...]:
    return tuple((v,) for row in rows for v in row)


def _controlled(target: list[Entry], controls: int = 1) -> list[Entry]:
    """Entries of diag(I, ..., I, U) for a target given by its entries."""
    tdim = int(round(math.sqrt(len(target))))
    dim = tdim * 2 ** controls
    low = dim - tdim
    return [target[(r - low) * tdim + (c - low)] if r >= low and c >= low else ((1,) if r == c else (0,))
            for r in range(dim) for c in range(dim)]


def _controlled_rows(rows: list[list[complex]], controls: int = 1) -> list[Entry]:
    return _controlled(list(_rows_entries(rows)), controls)


_HALF = ((0.5,),)                                      # a0 = theta / 2
_WHOLE = ((1.0,),)                                     # a0 = lambda
_RX = [(1, "c0"), (-1j, "s0"), (-1j, "s0"), (1, "c0")]
_RY = [(1, "c0"), (-1, "s0"), (1, "s0"), (1, "c0")]
_RZ = [(1, "f0"), (0,), (0,), (1, "e0")]
_P = [(1,), (0,), (0,), (1, "e0")]
_U3_ANGLES = ((0.5, 0, 0), (0, 1, 0), (0, 0, 1), (0, 1, 1))   # theta/2, phi, lambda, phi+lambda
_U3 = [(1, "c0"), (-1, "e2", "s0"), (1, "e1", "s0"), (1, "e3", "c0")]
_U2_ANGLES = ((1, 0), (0, 1), (1, 1))                          # phi, lambda, phi+lambda
_U2 = [(math.sqrt(0.5),), (-math.sqrt(0.5), "e1"), (math.sqrt(0.5), "e0"), (math.sqrt(0.5), "e2")]
_RZZ = [(1, "f0") if r == c and r in (0, 3) else (1, "e0") if r == c else (0,) for r in range(4) for c in range(4)]


def _pauli_rotation(pauli: list[list[complex]]) -> list[Entry]:
    """Entries of exp(-i theta/2 P) = cos I - i sin P for a Pauli matrix P."""
    dim = len(pauli)
    return [(1, "c0") if r == c else (-1j * pauli[r][c], "s0") if pauli[r][c] else (0,)
            for r in range(dim) for c in range(dim)]


_SQ2 = 1 / math.sqrt(2)
_I = [[1, 0], [0, 1]]
_X = [[0, 1], [1, 0]]
_Y = [[0, -1j], [1j, 0]]
_Z = [[1, 0], [0, -1]]
_H = [[_SQ2, _SQ2], [_SQ2, -_SQ2]]


def _kron(a, b):
    return [[a[i // 2][j // 2] * b[i % 2][j % 2] for j in range(4)] for i in range(4)]


def _sqrt_h():
    """sqrt(H) = (1+i)/2 I + (1-i)/2 H: H has eigenvalues +/-1, so this squares to H."""
    return [[(1 + 1j) / 2 * _I[i][j] + (1 - 1j) / 2 * _H[i][j] for j in range(2)] for i in range(2)]


def _mcx_rows(n_wires: int) -> list[list[int]]:
    """The (small) matrix of a multi-controlled X: the last two basis states swapped."""
    dim = 2 ** n_wires
    perm = list(range(dim))
    perm[dim - 2], perm[dim - 1] = dim - 1, dim - 2
    return [[1 if perm[i] == j else 0 for j in range(dim)] for i in range(dim)]


def _perm_of(entries: tuple[Entry, ...], dim: int) -> tuple[int, ...] | None:
    """The basis permutation of constant entries forming a 0/1 permutation matrix, else None."""
    values = [e[0] if len(e) == 1 else None for e in entries]
    if any(v not in (0, 1) for v in values):
        return None
    perm = [[c for c in range(dim) if values[r * dim + c] == 1] for r in range(dim)]
    if any(len(row) != 1 for row in perm) or len({row[0] for row in perm}) != dim:
        return None
    return tuple(row[0] for row in perm)


def _record(name, n_wires, n_params, matrix, doc, qiskit_class=None, qiskit=None, **flags) -> Gate:
    """A gate from ``matrix``: rows of constants, or (angle map, entries) when parameterized.

    A constant 0/1 permutation matrix gets its ``perm``; the drawing label defaults to the
    name without its control prefix (``crx`` -> ``RX``).
    """
    if n_params:
        angles, entries = matrix
        flags.setdefault("frequencies", (0.5,) * n_params)
    else:
        angles, entries = (), _rows_entries(matrix) if isinstance(matrix[0], list) else matrix
        flags.setdefault("perm", _perm_of(tuple(entries), 2 ** n_wires))
    controls = flags.get("controls", 0)
    flags.setdefault("label", name[controls:].upper())
    return Gate(name, n_wires, n_params, tuple(entries), doc, tuple(angles), qiskit or (name,), qiskit_class,
                **flags)


_RECORDS = [
    _record("id", 1, 0, (_I), "identity", "IGate", diagonal=True, real=True),
    _record("x", 1, 0, (_X), "Pauli X (NOT)", "XGate", real=True),
    _record("y", 1, 0, (_Y), "Pauli Y", "YGate"),
    _record("z", 1, 0, (_Z), "Pauli Z", "ZGate", diagonal=True, real=True),
    _record("h", 1, 0, (_H), "Hadamard", "HGate", real=True),
    _record("s", 1, 0, ([[1, 0], [0, 1j]]), "S = sqrt(Z)", "SGate", diagonal=True),
    _record("sdg", 1, 0, ([[1, 0], [0, -1j]]), "S-dagger", "SdgGate", diagonal=True),
    _record("t", 1, 0, ([[1, 0], [0, complex(_SQ2, _SQ2)]]), "T = sqrt(S)", "TGate", diagonal=True),
    _record("tdg", 1, 0, ([[1, 0], [0, complex(_SQ2, -_SQ2)]]), "T-dagger", "TdgGate", diagonal=True),
    _record("sx", 1, 0, ([[(1 + 1j) / 2, (1 - 1j) / 2], [(1 - 1j) / 2, (1 + 1j) / 2]]), "sqrt(X)", "SXGate"),
    _record("sxdg", 1, 0, ([[(1 - 1j) / 2, (1 + 1j) / 2], [(1 + 1j) / 2, (1 - 1j) / 2]]), "sqrt(X)-dagger",
            "SXdgGate"),
    # sqrt(H) = e^{i pi/4} R_n(pi/2) about n = (X+Z)/sqrt2
    _record("sh", 1, 0, (_sqrt_h()), "sqrt(Hadamard)", definition_phase=math.pi / 4,
            definition=(("ry", (0,), (-math.pi / 4,)), ("rz", (0,), (math.pi / 2,)), ("ry", (0,), (math.pi / 4,)))),
    _record("rx", 1, 1, (_HALF, _RX), "rotation exp(-i theta/2 X)", "RXGate"),
    _record("ry", 1, 1, (_HALF, _RY), "rotation exp(-i theta/2 Y)", "RYGate", real=True),
    _record("rz", 1, 1, (_HALF, _RZ), "rotation exp(-i theta/2 Z)", "RZGate", diagonal=True),
    _record("p", 1, 1, (_WHOLE, _P), "phase diag(1, exp(i lambda)); qiskit's p and u1", "PhaseGate",
            qiskit=("p", "u1"), diagonal=True, frequencies=(1,)),
    _record("u2", 1, 2, (_U2_ANGLES, _U2), "u2(phi, lambda) = u3(pi/2, phi, lambda)", "U2Gate", frequencies=(1, 1)),
    _record("u3", 1, 3, (_U3_ANGLES, _U3), "u3(theta, phi, lambda), qiskit's U3Gate/UGate", "U3Gate",
            qiskit=("u3", "u"), frequencies=(0.5, 1, 1)),
    _record("cx", 2, 0, (_mcx_rows(2)), "controlled X (CNOT)", "CXGate", controls=1, real=True),
    _record("cy", 2, 0, _controlled_rows(_Y), "controlled Y", "CYGate", controls=1),
    _record("cz", 2, 0, ([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, -1]]), "controlled Z", "CZGate",
            controls=1, diagonal=True, real=True),
    _record("ch", 2, 0, _controlled_rows(_H), "controlled Hadamard", "CHGate", controls=1, real=True),
    _record("swap", 2, 0, ([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]]), "swap", "SwapGate",
            real=True),
    _record("iswap", 2, 0, ([[1, 0, 0, 0], [0, 0, 1j, 0], [0, 1j, 0, 0], [0, 0, 0, 1]]), "iSWAP", "iSwapGate"),
    # sqrt(SWAP) = e^{i pi/8} exp(-i pi/8 (XX + YY + ZZ))
    _record("sqrtswap", 2, 0, ([[1, 0, 0, 0], [0, (1 + 1j) / 2, (1 - 1j) / 2, 0],
                                [0, (1 - 1j) / 2, (1 + 1j) / 2, 0], [0, 0, 0, 1]]), "sqrt(SWAP)",
            definition_phase=math.pi / 8, definition=(("rxx", (0, 1), (math.pi / 4,)),
                                                      ("ryy", (0, 1), (math.pi / 4,)),
                                                      ("rzz", (0, 1), (math.pi / 4,)))),
    _record("ecr", 2, 0, ([[0, 0, _SQ2, 1j * _SQ2], [0, 0, 1j * _SQ2, _SQ2], [_SQ2, -1j * _SQ2, 0, 0],
                           [-1j * _SQ2, _SQ2, 0, 0]]), "echoed cross-resonance (IBM's native entangler)", "ECRGate"),
    _record("crx", 2, 1, (_HALF, _controlled(_RX)), "controlled RX", "CRXGate", controls=1),
    _record("cry", 2, 1, (_HALF, _controlled(_RY)), "controlled RY", "CRYGate", controls=1, real=True),
    _record("crz", 2, 1, (_HALF, _controlled(_RZ)), "controlled RZ", "CRZGate", controls=1, diagonal=True),
    _record("cp", 2, 1, (_WHOLE, _controlled(_P)), "controlled phase; qiskit's cp and cu1", "CPhaseGate",
            qiskit=("cp", "cu1"), controls=1, diagonal=True, frequencies=(1,)),
    _record("cu3", 2, 3, (_U3_ANGLES, _controlled(_U3)), "controlled u3", "CU3Gate", controls=1,
            frequencies=(0.5, 1, 1)),
    _record("rxx", 2, 1, (_HALF, _pauli_rotation(_kron(_X, _X))), "exp(-i theta/2 X(x)X)", "RXXGate"),
    _record("ryy", 2, 1, (_HALF, _pauli_rotation(_kron(_Y, _Y))), "exp(-i theta/2 Y(x)Y)", "RYYGate"),
    _record("rzz", 2, 1, (_HALF, _RZZ), "exp(-i theta/2 Z(x)Z)", "RZZGate", diagonal=True),
    _record("rzx", 2, 1, (_HALF, _pauli_rotation(_kron(_Z, _X))), "exp(-i theta/2 Z(x)X): Z on the first wire",
            "RZXGate"),
    _record("ccx", 3, 0, (_mcx_rows(3)), "Toffoli", "CCXGate", controls=2, real=True),
    _record("cswap", 3, 0, _controlled_rows([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]]),
            "Fredkin (controlled swap)", "CSwapGate", controls=1, real=True),
]

#: Every gate by name.
GATES: dict[str, Gate] = {g.name: g for g in _RECORDS}

#: Other names accepted for the same gates.
ALIASES = {"i": "id", "u1": "p", "phase": "p", "u": "u3", "cnot": "cx", "cu1": "cp",
           "cphase": "cp", "toffoli": "ccx", "fredkin": "cswap", "not": "x"}


@lru_cache(maxsize=None)
def mcx(n_wires: int) -> Gate:
    """The multi-controlled X on ``n_wires`` wires (controls first, target last)."""
    if not isinstance(n_wires, int) or n_wires < 2:
        raise ValueError(f"mcx needs at least 2 wires (a control and a target), got {n_wires}")
    dim = 2 ** n_wires
    perm = (*range(dim - 2), dim - 1, dim - 2)
    return Gate("mcx", n_wires, 0, (), "multi-controlled X", qiskit=("mcx",), qiskit_class="MCXGate",
                label="X", controls=n_wires - 1, perm=perm, real=True)


@lru_cache(maxsize=4096)
def unitary(matrix: tuple[tuple[complex, ...], ...]) -> Gate:
    """The gate of a constant unitary ``matrix`` (rows of complex numbers, our bit order).

    Its flags (diagonal, real, permutation) are read from the matrix.

    >>> unitary(((0, 1), (1, 0))).kernel
    'permutation'
    """
    import numpy as np

    m = np.asarray(matrix, dtype=complex)
    dim = m.shape[0] if m.ndim == 2 else 0
    k = dim.bit_length() - 1
    if m.ndim != 2 or m.shape != (dim, dim) or dim < 2 or 2 ** k != dim:
        raise ValueError(f"a unitary needs a square 2**k x 2**k matrix, got shape {m.shape}")
    if not np.allclose(m.conj().T @ m, np.eye(dim), atol=1e-8):
        raise ValueError("the matrix of a unitary op is not unitary")
    entries = tuple((complex(v),) for v in m.reshape(-1))
    real = bool(np.all(m.imag == 0))
    values = tuple((v[0].real,) if real else v for v in entries)
    return Gate("unitary", k, 0, entries, "a constant unitary matrix", qiskit=("unitary",),
                qiskit_class="UnitaryGate", label="U", diagonal=bool(np.all(m == np.diag(np.diag(m)))),
                perm=_perm_of(values, dim), real=real, takes_matrix=True)


def _mcx_of(n_wires: int | None, matrix) -> Gate:
    if n_wires is None:
        raise ValueError("mcx needs its number of wires")
    return mcx(n_wires)


def _unitary_of(n_wires: int | None, matrix) -> Gate:
    if matrix is None:
        raise ValueError("a unitary op needs its matrix")
    gate = unitary(tuple(tuple(complex(v) for v in row) for row in matrix))
    if n_wires is not None and gate.n_wires != n_wires:
        raise ValueError(f"a unitary on {n_wires} wire(s) needs a {2 ** n_wires}x{2 ** n_wires} matrix, "
                         f"got {2 ** gate.n_wires}x{2 ** gate.n_wires}")
    return gate


#: Gate families whose record depends on the op: name -> builder(n_wires, matrix).
_FAMILIES = {"mcx": _mcx_of, "unitary": _unitary_of}

#: qiskit instruction name -> our gate name.
QISKIT_NAMES = {q: g.name for g in [*_RECORDS, mcx(2), unitary(((1, 0), (0, 1)))] for q in g.qiskit}


def get_gate(name: str, n_wires: int | None = None, matrix=None) -> Gate:
    """The record of gate ``name`` (aliases accepted); ``mcx`` takes its width from ``n_wires``,
    ``unitary`` its matrix from ``matrix``.

    >>> get_gate("cnot").name
    'cx'
    """
    key = ALIASES.get(name.lower(), name.lower())
    if key in GATES:
        return GATES[key]
    if key in _FAMILIES:
        return _FAMILIES[key](n_wires, matrix)
    known = ", ".join(sorted([*GATES, *_FAMILIES]))
    raise ValueError(f"unknown gate {name!r}; known gates: {known}")
