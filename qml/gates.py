"""Gate definitions: one self-describing record per gate.

A record gives the gate's name, number of wires and parameters, a torch function
from parameters to its matrix, and the flags the simulator's fast kernels and the
parameter-shift rule read. Matrices follow this package's bit order: the first wire
of a gate is the most significant bit of the matrix index (qiskit is the reverse;
:mod:`qml.interop` converts). Every matrix function is vectorised: parameters of
shape ``(..., n_params)`` give matrices of shape ``(..., 2**k, 2**k)``.

Example:
    >>> import torch
    >>> from qml.gates import GATES
    >>> GATES["ry"].matrix(torch.tensor([torch.pi])).real.round()
    tensor([[ 0., -1.],
            [ 1.,  0.]])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import torch

TWO_TERM = "two-term"    # generator with eigenvalues {a, a +/- 1/2}: one frequency
FOUR_TERM = "four-term"  # controlled rotation, eigenvalues {0, 0, +/-1/2}: two frequencies


@dataclass(frozen=True)
class Gate:
    """One gate: everything the package knows about it.

    ``controls`` is the number of leading control wires (the matrix is
    ``diag(I, U)`` over them); ``diagonal`` and ``permutation`` mark gates whose
    matrices are diagonal or 0/1 permutations for all parameters; ``real`` marks
    gates whose matrices are real for real parameters; ``shift_rules`` gives the
    parameter-shift rule of each parameter.
    """

    name: str
    n_wires: int
    n_params: int
    matrix: Callable[[torch.Tensor], torch.Tensor]
    doc: str
    qiskit_name: str | None = None
    controls: int = 0
    diagonal: bool = False
    permutation: bool = False
    real: bool = False
    shift_rules: tuple[str, ...] = ()

    def __call__(self, params: torch.Tensor) -> torch.Tensor:
        return self.matrix(params)


def _complex_dtype(params: torch.Tensor) -> torch.dtype:
    return torch.complex128 if params.dtype in (torch.float64, torch.complex128) else torch.complex64


def _assemble(entries: list, params: torch.Tensor, dim: int) -> torch.Tensor:
    """Stack ``dim*dim`` entries (tensors of shape params.shape[:-1] or numbers) into matrices."""
    dtype = _complex_dtype(params)
    shape = params.shape[:-1]
    cols = [e.to(dtype) if torch.is_tensor(e) else torch.full(shape, e, dtype=dtype, device=params.device)
            for e in entries]
    return torch.stack(cols, dim=-1).reshape(*shape, dim, dim)


def _constant(rows: list[list[complex]]) -> Callable[[torch.Tensor], torch.Tensor]:
    """A parameter-free gate: its matrix, cached per dtype and device."""
    @lru_cache(maxsize=None)
    def cached(dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        return torch.tensor(rows, dtype=dtype, device=device)

    def matrix(params: torch.Tensor) -> torch.Tensor:
        m = cached(_complex_dtype(params), params.device)
        return m.expand(*params.shape[:-1], *m.shape) if params.dim() > 1 else m
    return matrix


def _half_angle(params: torch.Tensor, i: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    half = params[..., i] / 2
    return torch.cos(half), torch.sin(half)


def _phase(angle: torch.Tensor) -> torch.Tensor:
    return torch.polar(torch.ones_like(angle), angle)


def _controlled(target: Callable[[torch.Tensor], torch.Tensor], n_target: int,
                controls: int = 1) -> Callable[[torch.Tensor], torch.Tensor]:
    """The matrix diag(I, ..., I, U) of a gate controlled on its first ``controls`` wires."""
    dim = 2 ** (n_target + controls)
    tdim = 2 ** n_target

    def matrix(params: torch.Tensor) -> torch.Tensor:
        u = target(params)
        out = torch.zeros(*u.shape[:-2], dim, dim, dtype=u.dtype, device=u.device)
        idx = torch.arange(dim - tdim, device=u.device)
        out[..., idx, idx] = 1
        out[..., dim - tdim:, dim - tdim:] = u
        return out
    return matrix


# --- single-qubit matrices -------------------------------------------------------------

def _rx(p):
    c, s = _half_angle(p)
    return _assemble([c, -1j * s, -1j * s, c], p, 2)


def _ry(p):
    c, s = _half_angle(p)
    return _assemble([c, -s, s, c], p, 2)


def _rz(p):
    e = _phase(p[..., 0] / 2)
    return _assemble([e.conj(), 0, 0, e], p, 2)


def _p(p):
    return _assemble([1, 0, 0, _phase(p[..., 0])], p, 2)


def _u3(p):
    c, s = _half_angle(p)
    ephi, elam = _phase(p[..., 1]), _phase(p[..., 2])
    return _assemble([c, -elam * s, ephi * s, ephi * elam * c], p, 2)


def _u2(p):
    half_pi = torch.full_like(p[..., :1], math.pi / 2)
    return _u3(torch.cat([half_pi, p], dim=-1))


# --- two-qubit rotations: exp(-i theta/2 P) for a two-qubit Pauli P ----------------------

def _pauli_rotation(pauli: list[list[complex]]) -> Callable[[torch.Tensor], torch.Tensor]:
    generator = torch.tensor(pauli, dtype=torch.complex128)

    def matrix(p):
        c, s = _half_angle(p)
        g = generator.to(dtype=_complex_dtype(p), device=p.device)
        eye = torch.eye(4, dtype=g.dtype, device=p.device)
        return c[..., None, None] * eye - 1j * s[..., None, None] * g
    return matrix


def _rzz(p):
    e = _phase(p[..., 0] / 2)
    d = [e.conj(), e, e, e.conj()]
    return _assemble([d[i] if i == j else 0 for i in range(4) for j in range(4)], p, 4)


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
    dim = 2 ** n_wires
    perm = list(range(dim))
    perm[dim - 2], perm[dim - 1] = dim - 1, dim - 2
    return [[1 if perm[i] == j else 0 for j in range(dim)] for i in range(dim)]


def _record(name, n_wires, n_params, matrix, doc, qiskit_name=None, **flags) -> Gate:
    if n_params and "shift_rules" not in flags:
        flags["shift_rules"] = (TWO_TERM,) * n_params
    return Gate(name, n_wires, n_params, matrix, doc, qiskit_name or name, **flags)


_PAULI_FREE = dict(diagonal=True, real=True, permutation=True)

_RECORDS = [
    _record("id", 1, 0, _constant(_I), "identity", **_PAULI_FREE),
    _record("x", 1, 0, _constant(_X), "Pauli X (NOT)", permutation=True, real=True),
    _record("y", 1, 0, _constant(_Y), "Pauli Y"),
    _record("z", 1, 0, _constant(_Z), "Pauli Z", diagonal=True, real=True),
    _record("h", 1, 0, _constant(_H), "Hadamard", real=True),
    _record("s", 1, 0, _constant([[1, 0], [0, 1j]]), "S = sqrt(Z)", diagonal=True),
    _record("sdg", 1, 0, _constant([[1, 0], [0, -1j]]), "S-dagger", diagonal=True),
    _record("t", 1, 0, _constant([[1, 0], [0, complex(_SQ2, _SQ2)]]), "T = sqrt(S)", diagonal=True),
    _record("tdg", 1, 0, _constant([[1, 0], [0, complex(_SQ2, -_SQ2)]]), "T-dagger", diagonal=True),
    _record("sx", 1, 0, _constant([[(1 + 1j) / 2, (1 - 1j) / 2], [(1 - 1j) / 2, (1 + 1j) / 2]]),
            "sqrt(X)"),
    _record("sxdg", 1, 0, _constant([[(1 - 1j) / 2, (1 + 1j) / 2], [(1 + 1j) / 2, (1 - 1j) / 2]]),
            "sqrt(X)-dagger"),
    _record("sh", 1, 0, _constant(_sqrt_h()), "sqrt(Hadamard)", qiskit_name=None),
    _record("rx", 1, 1, _rx, "rotation exp(-i theta/2 X)"),
    _record("ry", 1, 1, _ry, "rotation exp(-i theta/2 Y)", real=True),
    _record("rz", 1, 1, _rz, "rotation exp(-i theta/2 Z)", diagonal=True),
    _record("p", 1, 1, _p, "phase diag(1, exp(i lambda)); qiskit's p and u1", diagonal=True),
    _record("u2", 1, 2, _u2, "u2(phi, lambda) = u3(pi/2, phi, lambda)"),
    _record("u3", 1, 3, _u3, "u3(theta, phi, lambda), qiskit's U3Gate/UGate"),
    _record("cx", 2, 0, _constant(_mcx_rows(2)), "controlled X (CNOT)", controls=1,
            permutation=True, real=True),
    _record("cy", 2, 0, _controlled(_constant(_Y), 1), "controlled Y", controls=1),
    _record("cz", 2, 0, _constant([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, -1]]),
            "controlled Z", controls=1, diagonal=True, real=True),
    _record("ch", 2, 0, _controlled(_constant(_H), 1), "controlled Hadamard", controls=1, real=True),
    _record("swap", 2, 0, _constant([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]]),
            "swap", permutation=True, real=True),
    _record("iswap", 2, 0, _constant([[1, 0, 0, 0], [0, 0, 1j, 0], [0, 1j, 0, 0], [0, 0, 0, 1]]),
            "iSWAP"),
    _record("sqrtswap", 2, 0, _constant([[1, 0, 0, 0], [0, (1 + 1j) / 2, (1 - 1j) / 2, 0],
                                         [0, (1 - 1j) / 2, (1 + 1j) / 2, 0], [0, 0, 0, 1]]),
            "sqrt(SWAP)", qiskit_name=None),
    _record("crx", 2, 1, _controlled(_rx, 1), "controlled RX", controls=1, shift_rules=(FOUR_TERM,)),
    _record("cry", 2, 1, _controlled(_ry, 1), "controlled RY", controls=1, real=True,
            shift_rules=(FOUR_TERM,)),
    _record("crz", 2, 1, _controlled(_rz, 1), "controlled RZ", controls=1, diagonal=True,
            shift_rules=(FOUR_TERM,)),
    _record("cp", 2, 1, _controlled(_p, 1), "controlled phase; qiskit's cp and cu1", controls=1,
            diagonal=True),
    _record("cu3", 2, 3, _controlled(_u3, 1), "controlled u3", controls=1,
            shift_rules=(FOUR_TERM, TWO_TERM, TWO_TERM)),
    _record("rxx", 2, 1, _pauli_rotation(_kron(_X, _X)), "exp(-i theta/2 X(x)X)"),
    _record("ryy", 2, 1, _pauli_rotation(_kron(_Y, _Y)), "exp(-i theta/2 Y(x)Y)"),
    _record("rzz", 2, 1, _rzz, "exp(-i theta/2 Z(x)Z)", diagonal=True),
    _record("rzx", 2, 1, _pauli_rotation(_kron(_Z, _X)), "exp(-i theta/2 Z(x)X): Z on the first wire"),
    _record("ccx", 3, 0, _constant(_mcx_rows(3)), "Toffoli", controls=2, permutation=True, real=True),
    _record("cswap", 3, 0, _controlled(_constant([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]]),
                                       2), "Fredkin (controlled swap)", controls=1, permutation=True,
            real=True),
]

#: Every gate by name.
GATES: dict[str, Gate] = {g.name: g for g in _RECORDS}

#: Other names accepted for the same gates.
ALIASES = {"i": "id", "u1": "p", "phase": "p", "u": "u3", "cnot": "cx", "cu1": "cp",
           "cphase": "cp", "toffoli": "ccx", "fredkin": "cswap", "not": "x"}


@lru_cache(maxsize=None)
def mcx(n_wires: int) -> Gate:
    """The multi-controlled X on ``n_wires`` wires (controls first, target last)."""
    if n_wires < 2:
        raise ValueError(f"mcx needs at least 2 wires (a control and a target), got {n_wires}")
    return Gate("mcx", n_wires, 0, _constant(_mcx_rows(n_wires)), "multi-controlled X", "mcx",
                controls=n_wires - 1, permutation=True, real=True)


def get_gate(name: str, n_wires: int | None = None) -> Gate:
    """The record of gate ``name`` (aliases accepted); ``mcx`` takes its width from ``n_wires``.

    >>> get_gate("cnot").name
    'cx'
    """
    key = ALIASES.get(name.lower(), name.lower())
    if key == "mcx":
        if n_wires is None:
            raise ValueError("mcx needs its number of wires")
        return mcx(n_wires)
    if key not in GATES:
        known = ", ".join(sorted(list(GATES) + ["mcx"]))
        raise ValueError(f"unknown gate {name!r}; known gates: {known}")
    return GATES[key]
