"""VQE on molecules: Hamiltonians as Pauli sums, the UCCSD ansatz, the optimisation loop, and
QuantumNAS for VQE (:mod:`qml.vqe.search`; noisy energies on a device are in ``noise.vqe``).

``import qml.vqe`` is cheap: nothing of torch, qiskit or the chemistry packages loads until
an attribute is used, and the chemistry packages only by ``python -m qml.vqe.generate``.

Example:
    >>> from qml.vqe import load_hamiltonian, uccsd, vqe
    >>> h2 = load_hamiltonian("h2")
    >>> result = vqe(uccsd(h2), h2, steps=60, lr=0.1, progress=False)
    >>> abs(result.energy - h2.exact_energy) < 1.6e-3
    True
"""

from qml import lazy_exports

_EXPORTS = {
    "Hamiltonian": "qml.vqe.hamiltonian", "load_hamiltonian": "qml.vqe.hamiltonian",
    "known_molecules": "qml.vqe.hamiltonian",
    "uccsd": "qml.vqe.ansatz", "hardware_efficient": "qml.vqe.ansatz",
    "hartree_fock": "qml.vqe.ansatz", "pauli_rotation": "qml.vqe.ansatz",
    "excitations": "qml.vqe.ansatz",
    "vqe": "qml.vqe.optimize", "VQEResult": "qml.vqe.optimize", "energy": "qml.vqe.optimize",
    "estimate_energy": "qml.vqe.optimize",
    "searched_vqe": "qml.vqe.search", "EnergyScorer": "qml.vqe.search",
    "hartree_fock_encoder": "qml.vqe.search",
}

__getattr__, __dir__, __all__ = lazy_exports(globals(), "qml.vqe", _EXPORTS)
