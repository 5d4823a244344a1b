"""Noisy VQE energies on a device, and the QuantumNAS fitness for VQE (the energy).

:func:`noisy_energy` evaluates ``<H> = sum_k c_k <P_k> + constant`` for a circuit with bound
angles run on a device with a qubit mapping:

- ``method="density"`` (exact, no shots): the angles are bound, the circuit is transpiled
  for the device with the mapping (:func:`noise.program.noisy_program`, the same
  transpilation Aer runs), and the density matrix on the touched qubits is computed with the
  device's gate channels (:func:`qml.sim.density.simulate_density`, complex128). Each Pauli
  term is then measured as on hardware, on the qubits where the logical wires end
  (``program.measured``): its basis rotation (H for X, S-dagger then H for Y) is applied
  *ideally* to ``rho`` (on a device it merges into the last one-qubit gates; its error,
  ~3e-4 per wire on IBM devices, is left out), then the device's measurement channels
  (relaxation during readout) and the readout confusion ``P(read | true)`` of each logical
  wire's final qubit act on the measured distribution, and ``<P>`` is the mean parity of the
  bits on its support. So readout error is included, per measured wire, as the device has it;
  ``measurement_noise=False`` gives ``Tr(P rho)`` (gate noise only).
- ``method="aer"`` (shots): the terms are measured in qubit-wise commuting groups
  (:func:`qml.vqe.optimize.measurement_groups`): for each group the bound circuit followed by
  its basis rotation is transpiled and run on the device's Aer noise model
  (:func:`noise.aer.distributions`, ``shots`` shots, seeded), rotation gates noisy.

Angles are always bound before transpiling (qiskit's basis translator is slow on chains of
symbolic ``cu3``). :class:`VQEScorer` is the QuantumNAS fitness of the scorer contract of
:mod:`qml.nas.search`: the noisy energy of the candidate on its mapping.

Example:
    >>> from qml.vqe import load_hamiltonian, uccsd
    >>> from noise.vqe import noisy_energy
    >>> h2 = load_hamiltonian("h2")
    >>> params = {"s_0_1": 0.0, "s_2_3": 0.0, "d_0_2_1_3": 0.1}
    >>> round(noisy_energy(uccsd(h2), h2, "santiago", params), 4)    # gate and readout noise
    -1.0266
    >>> round(noisy_energy(uccsd(h2), h2, "santiago", params, measurement_noise=False), 4)
    -1.0452
"""

from __future__ import annotations

from functools import reduce
from typing import Sequence

import numpy as np

from qml.circuit import Circuit

METHODS = ("density", "aer")
_H = np.array([[1, 1], [1, -1]], dtype=np.complex128) / np.sqrt(2)
_SDG = np.diag([1, -1j]).astype(np.complex128)
_ROTATE = {"X": _H, "Y": _H @ _SDG}


def _device(device):
    from noise.devices import Device

    return Device.from_name(device) if isinstance(device, str) else device


def _bound(circuit: Circuit | str, params) -> Circuit:
    if isinstance(circuit, str):
        circuit = Circuit.from_json(circuit)
    if not isinstance(circuit, Circuit):
        raise ValueError(f"expected a qml.Circuit, got {type(circuit).__name__}")
    if circuit.n_inputs:
        raise ValueError("the circuit reads input features; a VQE circuit has none")
    bound = circuit.bind(params) if params is not None and circuit.parameters else circuit
    if bound.parameters:
        raise ValueError(f"no value for parameter(s) {', '.join(bound.parameters[:5])}")
    return bound


def _labels(hamiltonian) -> list[tuple[str, float]]:
    return list(hamiltonian.terms)


class _DensityMeasurement:
    """The noisy state of a bound circuit on a device, measured in any Pauli basis."""

    def __init__(self, circuit: Circuit, device, mapping, seed: int):
        import torch

        from noise.program import noisy_program
        from qml.sim.density import simulate_density

        self.program = program = noisy_program(circuit, device, mapping, seed)
        last = len(program.circuit.ops) - 1            # the barrier before the measurement
        gate = [c for c in program.channels if c.after < last]
        self.measure = [c for c in program.channels if c.after >= last]
        self.m = program.circuit.n_wires
        self.n = circuit.n_wires
        rho = simulate_density(program.circuit, channels=gate, dtype=torch.complex128)
        self.rho = rho[0].numpy()
        self._cache: dict = {}

    def probabilities(self, basis: tuple[tuple[int, str], ...], measurement_noise: bool) -> np.ndarray:
        """Distribution of the logical wires' bits (wire 0 most significant) after rotating
        logical wires ``w`` by ``basis`` ``((w, "X"|"Y"), ...)``."""
        key = (basis, measurement_noise)
        if key in self._cache:
            return self._cache[key]
        m, measured = self.m, self.program.measured
        rho = self.rho
        if basis:
            mats = [np.eye(2, dtype=np.complex128)] * m
            for w, p in basis:
                mats[measured[w]] = _ROTATE[p]
            v = reduce(np.kron, mats)
            rho = v @ rho @ v.conj().T
        if measurement_noise and self.measure:
            t = rho.reshape([2] * (2 * m))
            for ch in self.measure:
                (w,) = ch.wires
                s = np.asarray(ch.superop, dtype=np.complex128).reshape(2, 2, 2, 2)
                t = np.moveaxis(np.tensordot(s, t, axes=([2, 3], [w, m + w])), [0, 1], [w, m + w])
            rho = t.reshape(2 ** m, 2 ** m)
        probs = np.clip(np.real(np.diagonal(rho)), 0, None).reshape([2] * m)
        others = [j for j in range(m) if j not in measured]
        probs = probs.transpose(list(measured) + others).reshape(2 ** self.n, -1).sum(1)
        if measurement_noise:
            t = probs.reshape([2] * self.n)
            for w, (p10, p01) in enumerate(self.program.readout):
                confusion = np.array([[1 - p10, p01], [p10, 1 - p01]])   # [read, true]
                t = np.moveaxis(np.tensordot(confusion, t, axes=([1], [w])), 0, w)
            probs = t.reshape(-1)
        self._cache[key] = probs
        return probs

    def expectation(self, label: str, measurement_noise: bool) -> float:
        basis = tuple((w, p) for w, p in enumerate(label) if p in "XY")
        probs = self.probabilities(basis, measurement_noise)
        return float(probs @ _signs(label))


def _signs(label: str) -> np.ndarray:
    """``(-1)**(parity of the bits on the support of label)`` for every basis index."""
    n = len(label)
    idx = np.arange(2 ** n)
    mask = sum(1 << (n - 1 - w) for w, p in enumerate(label) if p != "I")
    v = idx & mask
    parity = np.zeros(2 ** n, dtype=np.int64)
    while v.any():
        parity ^= v & 1
        v = v >> 1
    return 1.0 - 2.0 * parity


def pauli_expectations(circuit: Circuit | str, labels: Sequence[str], device, params=None,
                       mapping: Sequence[int] | None = None, *, measurement_noise: bool = True,
                       seed: int = 0) -> np.ndarray:
    """Exact noisy ``<P>`` of each Pauli label (logical wires, wire 0 first) on ``device``.

    ``measurement_noise=False``: ``Tr(P rho)`` of the state after the gates with their noise;
    ``True``: as read out (ideal basis rotation, then measurement channels and readout error).
    """
    circuit = _bound(circuit, params)
    for label in labels:
        if len(label) != circuit.n_wires or set(label) - set("IXYZ"):
            raise ValueError(f"malformed Pauli label {label!r} for a {circuit.n_wires}-wire circuit")
    state = _DensityMeasurement(circuit, _device(device), mapping, seed)
    return np.array([state.expectation(label, measurement_noise) for label in labels])


def noisy_energy(circuit: Circuit | str, hamiltonian, device, params=None,
                 mapping: Sequence[int] | None = None, *, method: str = "density",
                 shots: int = 8192, seed: int = 0, measurement_noise: bool = True) -> float:
    """The energy of ``hamiltonian`` for ``circuit`` (angles ``params``) on ``device``.

    ``device``: a :class:`noise.devices.Device` or a name; ``mapping[w]``: the physical qubit of
    logical wire ``w`` (``None``: the transpiler's choice). ``method``: ``"density"`` (exact;
    readout and measurement errors included unless ``measurement_noise=False``) or ``"aer"``
    (``shots`` per measurement group on the Aer noise model, seeded by ``seed``).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    circuit = _bound(circuit, params)
    if circuit.n_wires != hamiltonian.n_qubits:
        raise ValueError(f"the circuit has {circuit.n_wires} wires, the Hamiltonian "
                         f"{hamiltonian.name!r} acts on {hamiltonian.n_qubits} qubits")
    device = _device(device)
    if method == "density":
        state = _DensityMeasurement(circuit, device, mapping, seed)
        return hamiltonian.constant + sum(c * state.expectation(label, measurement_noise)
                                          for label, c in hamiltonian.terms)
    if isinstance(shots, bool) or not isinstance(shots, int) or shots < 1:
        raise ValueError(f"shots must be a positive integer, got {shots!r}")
    from noise.aer import distributions
    from qml.vqe.optimize import _rotation, measurement_groups

    identity, groups = measurement_groups(hamiltonian)
    total = hamiltonian.constant + identity
    n = circuit.n_wires
    idx = np.arange(2 ** n)
    for k, (basis, members) in enumerate(groups):
        rot = _rotation(basis)
        run = circuit if rot is None else circuit + rot
        freq = distributions(run, device, shots=shots, seed=seed + k, mapping=mapping,
                             progress=False, threads=1)[0].numpy()
        for c, mask in members:
            v = idx & mask
            parity = np.array([bin(int(x)).count("1") & 1 for x in v])
            total += c * float(freq @ (1 - 2 * parity))
    return float(total)


class VQEScorer:
    """QuantumNAS fitness for VQE: ``scorer(circuit, params, mapping) -> noisy energy``.

    ``molecule``: a shipped molecule's name or a Hamiltonian JSON path (kept as text, so the
    scorer pickles small); ``device``: a device name. ``method``/``shots``/``seed`` as for
    :func:`noisy_energy`. A candidate circuit is bound, transpiled on its mapping, and its
    noisy energy (lower is better) returned.
    """

    def __init__(self, molecule: str, device: str, method: str = "density", shots: int = 8192,
                 seed: int = 0):
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
        self.molecule, self.device_name, self.method, self.shots, self.seed = \
            molecule, device, method, shots, seed
        self.identity = {"scorer": "vqe-energy", "molecule": molecule, "device": device,
                         "method": method, "shots": shots if method == "aer" else None, "seed": seed}
        _device(device)                                   # an unknown name fails here

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __call__(self, circuit, params: dict, mapping: Sequence[int]) -> float:
        from qml.vqe import load_hamiltonian

        if not hasattr(self, "_ham"):
            self._ham, self._dev = load_hamiltonian(self.molecule), _device(self.device_name)
        return noisy_energy(circuit, self._ham, self._dev, params, mapping, method=self.method,
                            shots=self.shots, seed=self.seed)


__all__ = ["METHODS", "VQEScorer", "noisy_energy", "pauli_expectations"]
