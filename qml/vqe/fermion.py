"""Fermionic ladder operators as qubit Pauli sums: Jordan-Wigner and parity mappings.

Our own small implementation (numpy-free, exact rational arithmetic on complex numbers), used
to build the UCCSD excitation generators in the same qubit space as the Hamiltonians shipped
in ``qml/vqe/data``. Conventions, those of qiskit-nature:

* spin orbitals in *block* order: the ``n`` alpha orbitals first, then the ``n`` beta ones;
* mode ``j`` lives on wire ``j`` (the Pauli string's character ``j``; wire 0 is the most
  significant bit of a basis-state index, as everywhere in :mod:`qml`);
* Jordan-Wigner: ``a_j^dagger = (X_j - i Y_j)/2 Z_0 ... Z_{j-1}``;
* parity: wire ``j`` holds the parity of modes ``0..j``;
  ``a_j^dagger = (X_j Z_{j-1} - i Y_j)/2 X_{j+1} ... X_{N-1}``;
* two-qubit reduction (parity only): wires ``N/2 - 1`` (parity of the alpha electrons) and
  ``N - 1`` (parity of all electrons) hold constants; they are removed and a ``Z`` there is
  replaced by its eigenvalue ``(-1)^{n_alpha}`` or ``(-1)^{n_alpha + n_beta}``.

An operator is a dict ``(x_mask, z_mask) -> coefficient`` meaning ``sum c X^x Z^z`` (the X part
left of the Z part on each wire; bit ``N-1-w`` of a mask is wire ``w``).

Example:
    >>> from qml.vqe.fermion import ladder, to_paulis
    >>> to_paulis(ladder(1, 2, "jordan_wigner", dagger=True), 2)
    [((0.5+0j), 'ZX'), (-0.5j, 'ZY')]
"""

from __future__ import annotations

MAPPINGS = ("jordan_wigner", "parity")

Operator = dict  # (x_mask, z_mask) -> complex


def _bit(n_modes: int, wire: int) -> int:
    return 1 << (n_modes - 1 - wire)


def ladder(mode: int, n_modes: int, mapping: str, dagger: bool) -> Operator:
    """``a_mode`` (or its adjoint) on ``n_modes`` qubits under ``mapping``."""
    if mapping not in MAPPINGS:
        raise ValueError(f"unknown mapping {mapping!r}; choose one of {MAPPINGS}")
    if not 0 <= mode < n_modes:
        raise ValueError(f"mode {mode} is out of range for {n_modes} modes")
    b = lambda w: _bit(n_modes, w)
    if mapping == "jordan_wigner":
        chain_x, chain_z = 0, sum(b(w) for w in range(mode))
    else:
        chain_x, chain_z = sum(b(w) for w in range(mode + 1, n_modes)), (b(mode - 1) if mode else 0)
    # majoranas c = X_j (chain), d = Y_j (chain) = i X_j Z_j (chain, JW) or i X_j Z_j (X chain, parity)
    c = (chain_x | b(mode), chain_z)
    d_z = (chain_z | b(mode)) if mapping == "jordan_wigner" else b(mode)
    d = (chain_x | b(mode), d_z)
    # Y_j = i X_j Z_j; in the parity chain the Z_{j-1} of c is absent from d
    sign = -1j if dagger else 1j   # a^dagger = (c - i d)/2, a = (c + i d)/2
    op: Operator = {}
    _add(op, c, 0.5)
    _add(op, d, sign * 0.5 * 1j)
    return op


def _add(op: Operator, key, value: complex) -> None:
    value = op.get(key, 0) + value
    if abs(value) < 1e-14:
        op.pop(key, None)
    else:
        op[key] = value


def multiply(a: Operator, b: Operator) -> Operator:
    """The product ``a @ b``: X^x1 Z^z1 X^x2 Z^z2 = (-1)^{|z1 & x2|} X^{x1^x2} Z^{z1^z2}."""
    out: Operator = {}
    for (x1, z1), c1 in a.items():
        for (x2, z2), c2 in b.items():
            sign = -1 if bin(z1 & x2).count("1") % 2 else 1
            _add(out, (x1 ^ x2, z1 ^ z2), sign * c1 * c2)
    return out


def add(a: Operator, b: Operator, scale: complex = 1) -> Operator:
    """``a + scale * b``."""
    out = dict(a)
    for key, value in b.items():
        _add(out, key, scale * value)
    return out


def product(factors: list[tuple[int, bool]], n_modes: int, mapping: str) -> Operator:
    """The product of ladder operators ``[(mode, dagger), ...]``, left to right."""
    out: Operator = {(0, 0): 1}
    for mode, dagger in factors:
        out = multiply(out, ladder(mode, n_modes, mapping, dagger))
    return out


def excitation_generator(occupied: tuple[int, ...], virtual: tuple[int, ...], n_modes: int,
                         mapping: str) -> Operator:
    """``T - T^dagger`` with ``T = a_v1^dagger a_v2^dagger ... a_o2 a_o1`` (anti-Hermitian)."""
    if len(occupied) != len(virtual):
        raise ValueError("an excitation moves as many electrons out as in")
    factors = [(v, True) for v in virtual] + [(o, False) for o in reversed(occupied)]
    t = product(factors, n_modes, mapping)
    t_dagger = product([(m, not d) for m, d in reversed(factors)], n_modes, mapping)
    return add(t, t_dagger, -1)


def reduce_two_qubits(op: Operator, n_modes: int, n_alpha: int, n_beta: int) -> tuple[Operator, int]:
    """Parity mapping's two-qubit reduction: remove wires ``N/2-1`` and ``N-1``; new qubit count.

    Every term must be I or Z on those wires (true of operators that conserve the number of
    alpha and of beta electrons); a Z is replaced by the wire's eigenvalue.
    """
    mid, last = n_modes // 2 - 1, n_modes - 1
    values = {mid: (-1) ** n_alpha, last: (-1) ** (n_alpha + n_beta)}
    keep = [w for w in range(n_modes) if w not in values]
    m = len(keep)
    out: Operator = {}
    for (x, z), c in op.items():
        for w, v in values.items():
            if x & _bit(n_modes, w):
                raise ValueError("the operator does not conserve the electron-number parities: "
                                 "it cannot be reduced")
            if z & _bit(n_modes, w):
                c = c * v
        nx = sum(_bit(m, i) for i, w in enumerate(keep) if x & _bit(n_modes, w))
        nz = sum(_bit(m, i) for i, w in enumerate(keep) if z & _bit(n_modes, w))
        _add(out, (nx, nz), c)
    return out, m


def to_paulis(op: Operator, n_qubits: int) -> list[tuple[complex, str]]:
    """``[(coefficient, label)]`` with Y labels (X Z = -i Y), sorted by label."""
    out = []
    for (x, z), c in op.items():
        chars = []
        for w in range(n_qubits):
            xb, zb = bool(x & _bit(n_qubits, w)), bool(z & _bit(n_qubits, w))
            chars.append("Y" if xb and zb else "X" if xb else "Z" if zb else "I")
        c = c * (-1j) ** bin(x & z).count("1")
        out.append((complex(c), "".join(chars)))
    return sorted(out, key=lambda t: t[1])


def hartree_fock_bits(n_spatial: int, n_alpha: int, n_beta: int, mapping: str,
                      two_qubit_reduction: bool = False) -> list[int]:
    """The Hartree-Fock basis state as one bit per wire (the lowest orbitals of each spin filled)."""
    occ = [int(j < n_alpha) for j in range(n_spatial)] + [int(j < n_beta) for j in range(n_spatial)]
    if mapping == "jordan_wigner":
        if two_qubit_reduction:
            raise ValueError("the two-qubit reduction needs the parity mapping")
        return occ
    if mapping != "parity":
        raise ValueError(f"unknown mapping {mapping!r}; choose one of {MAPPINGS}")
    bits, parity = [], 0
    for n in occ:
        parity ^= n
        bits.append(parity)
    if two_qubit_reduction:
        n = 2 * n_spatial
        bits = [b for w, b in enumerate(bits) if w not in (n // 2 - 1, n - 1)]
    return bits
