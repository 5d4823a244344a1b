"""Ansatz circuits for VQE: Hartree-Fock, UCCSD (our own) and a hardware-efficient ansatz.

UCCSD: ``|psi(t)> = prod_e exp(theta_e (T_e - T_e^dagger)) |HF>`` over the spin-preserving
single and double excitations ``e`` from occupied to virtual spin orbitals (qiskit-nature's
default UCCSD set: alpha and beta singles; alpha-alpha, beta-beta and alpha-beta doubles).
Each generator is mapped to qubits in the Hamiltonian's own mapping (Jordan-Wigner, or parity
with the two-qubit reduction) by :mod:`qml.vqe.fermion`; its Pauli terms commute, so its
exponential is exactly a product of Pauli rotations ``exp(-i angle/2 P)``, each built from a
basis change (H for X; S-dagger then H for Y), a CNOT ladder onto the last wire of ``P``, and
an ``RZ`` (constant gates that meet their inverse cancel, so that the rotations of one
excitation share their Z-chain ladders). All rotations of excitation ``e`` share one named parameter ``t_e`` (the
rotation angle of its smallest term: ``t = theta/4`` for a Jordan-Wigner double,
``t = theta`` for a single), so there is one parameter per excitation; a term twice as large
repeats its ``RZ``, a negative one flips it with X gates on the target.

Example:
    >>> from qml.vqe import load_hamiltonian, uccsd
    >>> h2 = load_hamiltonian("h2")
    >>> c = uccsd(h2)
    >>> c.parameters
    ('s_0_1', 's_2_3', 'd_0_2_1_3')
    >>> print(hardware_efficient(2, layers=1).draw())
    q0: ─RY(ry0_0)─RZ(rz0_0)─●─RY(ry1_0)─RZ(rz1_0)─
    q1: ─RY(ry0_1)─RZ(rz0_1)─X─RY(ry1_1)─RZ(rz1_1)─
"""

from __future__ import annotations

from itertools import combinations

from qml.circuit import Circuit
from qml.vqe import fermion


def hartree_fock(hamiltonian, circuit: Circuit | None = None) -> Circuit:
    """X on the wires that are 1 in the Hartree-Fock bitstring of ``hamiltonian``'s mapping."""
    bits = hamiltonian.hartree_fock_bits()
    circuit = circuit if circuit is not None else Circuit(len(bits))
    for w, b in enumerate(bits):
        if b:
            circuit.x(w)
    return circuit


def excitations(n_spatial: int, n_alpha: int, n_beta: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Spin-preserving singles then doubles, ``(occupied, virtual)`` spin orbitals in block order."""
    occ_a, vir_a = range(n_alpha), range(n_alpha, n_spatial)
    occ_b = range(n_spatial, n_spatial + n_beta)
    vir_b = range(n_spatial + n_beta, 2 * n_spatial)
    singles = [((i,), (a,)) for occ, vir in ((occ_a, vir_a), (occ_b, vir_b)) for i in occ for a in vir]
    doubles = [(ij, ab) for occ, vir in ((occ_a, vir_a), (occ_b, vir_b))
               for ij in combinations(occ, 2) for ab in combinations(vir, 2)]
    doubles += [((i, j), (a, b)) for i in occ_a for j in occ_b for a in vir_a for b in vir_b]
    return singles + doubles


def _name(occupied, virtual) -> str:
    return ("s_" if len(occupied) == 1 else "d_") + "_".join(map(str, (*occupied, *virtual)))


def excitation_rotations(hamiltonian, occupied, virtual) -> list[tuple[int, str]]:
    """``[(multiple, label)]``: ``exp(theta (T - T^dagger)) = prod exp(-i multiple*t/2 P_label)``."""
    n_modes = 2 * hamiltonian.n_spatial_orbitals
    op = fermion.excitation_generator(tuple(occupied), tuple(virtual), n_modes, hamiltonian.mapping)
    n = n_modes
    if hamiltonian.two_qubit_reduction:
        op, n = fermion.reduce_two_qubits(op, n_modes, hamiltonian.n_alpha, hamiltonian.n_beta)
    # T - T^dagger = sum i b_k P_k; exp(theta * that) = prod exp(-i (-2 theta b_k)/2 P_k)
    terms = [(c, p) for c, p in fermion.to_paulis(op, n) if abs(c) > 1e-12]
    if not terms:
        return []
    if any(abs(c.real) > 1e-12 for c, _ in terms) or any(set(p) == {"I"} for _, p in terms):
        raise ValueError(f"excitation {occupied}->{virtual}: generator is not a sum of i*Pauli terms")
    unit = min(abs(c.imag) for c, _ in terms)
    out = []
    for c, p in terms:
        m = -c.imag / unit
        if abs(m - round(m)) > 1e-9:
            raise ValueError(f"excitation {occupied}->{virtual}: term {p} is not a multiple of the smallest")
        out.append((int(round(m)), p))
    return out


_INVERSE = {"h": "h", "x": "x", "cx": "cx", "s": "sdg", "sdg": "s"}


class _Peephole:
    """Collects ops and cancels a constant gate against its inverse when they meet on all
    their wires (H H, X X, S S-dagger, the same CNOT): consecutive Pauli rotations of one
    excitation share their Z chains, whose CNOT ladders then cancel between them."""

    def __init__(self, circuit: Circuit):
        self.n_wires = circuit.n_wires
        self.ops: list = [(op.name, op.wires, op.params) for op in circuit.ops]
        self.stacks: list[list[int]] = [[] for _ in range(self.n_wires)]
        for i, (_, wires, _) in enumerate(self.ops):
            for w in wires:
                self.stacks[w].append(i)

    def add(self, name: str, wires: tuple[int, ...], params=()) -> "_Peephole":
        if not params and name in _INVERSE:
            tops = {self.stacks[w][-1] if self.stacks[w] else None for w in wires}
            j = tops.pop() if len(tops) == 1 else None
            if j is not None and self.ops[j] is not None:
                prev_name, prev_wires, prev_params = self.ops[j]
                if prev_wires == wires and not prev_params and _INVERSE.get(prev_name) == name:
                    self.ops[j] = None
                    for w in wires:
                        self.stacks[w].pop()
                    return self
        self.ops.append((name, wires, tuple(params)))
        for w in wires:
            self.stacks[w].append(len(self.ops) - 1)
        return self

    def circuit(self) -> Circuit:
        c = Circuit(self.n_wires)
        for op in self.ops:
            if op is not None:
                c.append(*op)
        return c


def _rotation_ops(builder: _Peephole, label: str, param, multiple: int) -> None:
    # the Z wires first in the ladder, so that the ladders of rotations sharing them cancel
    support = [w for w, p in enumerate(label) if p == "Z"] + [w for w, p in enumerate(label) if p in "XY"]
    if not support or multiple == 0:
        return
    for w in support:
        if label[w] == "X":
            builder.add("h", (w,))
        elif label[w] == "Y":
            builder.add("sdg", (w,)).add("h", (w,))
    ladder = list(zip(support, support[1:]))
    for a, b in ladder:
        builder.add("cx", (a, b))
    target = support[-1]
    if multiple < 0:
        builder.add("x", (target,))
    for _ in range(abs(multiple)):
        builder.add("rz", (target,), (param,))
    if multiple < 0:
        builder.add("x", (target,))
    for a, b in reversed(ladder):
        builder.add("cx", (a, b))
    for w in support:
        if label[w] == "X":
            builder.add("h", (w,))
        elif label[w] == "Y":
            builder.add("h", (w,)).add("s", (w,))


def pauli_rotation(circuit: Circuit, label: str, param, multiple: int = 1) -> Circuit:
    """``circuit`` followed by ``exp(-i multiple*param/2 P)`` for Pauli string ``label`` (a new circuit).

    Basis changes to Z (H for X; S-dagger then H for Y), a CNOT ladder computing the parity
    onto the last wire of ``P``, ``|multiple|`` RZ there (between X gates when negative), then
    everything undone; gates that meet their inverse cancel.
    """
    if len(label) != circuit.n_wires:
        raise ValueError(f"Pauli label {label!r} has {len(label)} characters, the circuit "
                         f"{circuit.n_wires} wires")
    builder = _Peephole(circuit)
    _rotation_ops(builder, label, param, multiple)
    return builder.circuit()


def uccsd(hamiltonian, singles: bool = True, doubles: bool = True) -> Circuit:
    """Hartree-Fock then one block of Pauli rotations per excitation (one parameter each).

    ``hamiltonian``: a :class:`qml.vqe.Hamiltonian` (its active space and mapping are used).
    Excitations whose generator vanishes in the reduced qubit space are left out.
    """
    builder = _Peephole(hartree_fock(hamiltonian))
    for occupied, virtual in excitations(hamiltonian.n_spatial_orbitals, hamiltonian.n_alpha,
                                         hamiltonian.n_beta):
        if (len(occupied) == 1 and not singles) or (len(occupied) == 2 and not doubles):
            continue
        name = _name(occupied, virtual)
        for multiple, label in excitation_rotations(hamiltonian, occupied, virtual):
            _rotation_ops(builder, label, name, multiple)
    return builder.circuit()


def hardware_efficient(n_qubits: int, layers: int = 2, initial_bits=None) -> Circuit:
    """RY-RZ on every wire, a CNOT chain, repeated ``layers`` times, then a last RY-RZ layer.

    ``initial_bits``: X gates first on the wires that are 1 (e.g. a Hartree-Fock bitstring).
    Parameters ``ry{layer}_{wire}`` and ``rz{layer}_{wire}``.
    """
    if layers < 0:
        raise ValueError(f"layers must be non-negative, got {layers}")
    c = Circuit(n_qubits)
    for w, b in enumerate(initial_bits or ()):
        if b:
            c.x(w)
    for layer in range(layers + 1):
        for w in range(n_qubits):
            c.ry(w, f"ry{layer}_{w}").rz(w, f"rz{layer}_{w}")
        if layer < layers:
            for w in range(n_qubits - 1):
                c.cx(w, w + 1)
    return c
