"""Device-aware fitness for QuantumNAS: a candidate's loss under a device's noise, with its mapping.

Two scorer factories of the contract in :mod:`qml.nas.search` (``qml`` never imports this
module; the CLI registers them as ``"density"`` and ``"aer"``):

- :func:`density_scorer`: exact noisy ``<Z>`` by our density-matrix mode with the device's
  channels and readout errors (:func:`noise.program.density_expectations`): no shot noise,
  the default of ``qml-bench nas --device``;
- :func:`aer_scorer`: Aer with the device's noise model and ``shots`` per sample
  (:func:`noise.aer.expectations`), seeded: the cross-check.

Both transpile the candidate for the device with its mapping (routing included), so a
mapping that needs SWAPs or sits on noisy qubits scores worse. Options (``--scorer-option``):
``device`` (a name of :meth:`Device.known_names`), ``properties`` (a calibration JSON file),
``noise_scale`` (every error rate times this factor), and for Aer ``shots`` and ``threads``.
The device travels to worker processes as JSON and is rebuilt once per process.

Example:
    >>> from qml.data import load_task
    >>> from qml.layers import get_encoder
    >>> from qml.nas import SuperCircuit
    >>> from noise.scorers import density_scorer
    >>> data = load_task("digits4")
    >>> scorer = density_scorer(data, encoder="4x4_ryzxy", n_valid=20, device="santiago")
    >>> sc = SuperCircuit("u3cu3", 4, 1, seed=0)
    >>> sub = sc.subcircuit(sc.largest)
    >>> circuit = get_encoder("4x4_ryzxy", 4).circuit(4) + sub
    >>> good = scorer(circuit.to_json(), sc.param_dict(sub), (0, 1, 2, 3))
    >>> bad = scorer(circuit.to_json(), sc.param_dict(sub), (0, 2, 4, 1))   # needs SWAPs
    >>> good < bad
    True
"""

from __future__ import annotations

import functools
from typing import Sequence

import torch

from qml.circuit import Circuit
from qml.nas.search import NoiseFreeScorer, validation_subset

from noise.devices import Device


@functools.lru_cache(maxsize=8)
def _device(text: str) -> Device:
    """The Device of ``text`` (its JSON), one per process."""
    return Device.from_json(text)


class DeviceScorer(NoiseFreeScorer):
    """The NLL loss of a classifier circuit on a device, with the candidate's mapping.

    ``method`` is ``"density"`` (exact) or ``"aer"`` (``shots`` per sample, seeded by ``seed``).
    """

    def __init__(self, device: Device, features: torch.Tensor, labels: torch.Tensor, n_wires: int,
                 n_classes: int, readout: str = "auto", *, method: str = "density",
                 shots: int = 8192, seed: int = 0, threads: int = 1, identity: dict | None = None):
        if method not in ("density", "aer"):
            raise ValueError(f"method must be 'density' or 'aer', got {method!r}")
        super().__init__(features, labels, n_wires, n_classes, readout, identity)
        self.device_json = device.to_json()
        self.method, self.shots, self.seed, self.threads = method, shots, seed, threads

    @property
    def device(self) -> Device:
        return _device(self.device_json)

    def program(self, circuit: str | Circuit, params: dict, mapping: Sequence[int]):
        """The candidate as the device runs it (:class:`noise.program.NoisyProgram`: transpiled
        gates, ``depth``, ``count_ops``)."""
        from noise.program import noisy_program

        if isinstance(circuit, str):
            circuit = Circuit.from_json(circuit)
        return noisy_program(circuit.bind(params), self.device, mapping, self.seed)

    def expectations(self, circuit: Circuit, params: dict, mapping: Sequence[int],
                     features: torch.Tensor) -> torch.Tensor:
        # angles bound before transpiling: only the inputs stay symbolic (qiskit 2.6's basis
        # translator takes minutes on chains of symbolic cu3 gates, and a device runs numbers)
        circuit = circuit.bind(params)
        if self.method == "density":
            from noise.program import density_expectations

            return density_expectations(circuit, self.device, None, features, mapping=mapping,
                                        seed=self.seed)
        from noise.aer import expectations

        return expectations(circuit, self.device, None, features, shots=self.shots, seed=self.seed,
                            mapping=mapping, progress=False, threads=self.threads)


def _device_of(options: dict, n_physical: int | None) -> Device:
    """The device the options name (``device``, ``properties``, ``noise_scale``)."""
    name = options.pop("device", None)
    if not name:
        raise ValueError("a device scorer needs the device: --device NAME "
                         "(or --scorer-option device=NAME)")
    device = Device.from_name(name, options.pop("properties", None) or None)
    scale = _number(options.pop("noise_scale", 1.0), "noise_scale", float, 0)
    if scale != 1.0:
        device = device.scaled(scale)
    if n_physical is not None and n_physical != device.n_qubits:
        raise ValueError(f"the search maps onto {n_physical} physical qubits but {device.name} has "
                         f"{device.n_qubits}")
    return device


def _number(value, option: str, kind: type, minimum: float):
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"scorer option {option} must be a number, got {value!r}") from None
    if number < minimum:
        raise ValueError(f"scorer option {option} must be {'positive' if minimum else '>= 0'}, got {value!r}")
    return number


def _make(method: str, data, encoder: str, n_classes, readout, n_valid, seed, n_physical,
          options: dict) -> DeviceScorer:
    options = dict(options)
    device = _device_of(options, n_physical)
    shots = _number(options.pop("shots", 8192), "shots", int, 1) if method == "aer" else None
    threads = _number(options.pop("threads", 1), "threads", int, 0) if method == "aer" else 1
    if options:
        raise ValueError(f"the {method} scorer does not know the option(s) {sorted(options)}; "
                         f"it takes device, properties, noise_scale"
                         + (", shots, threads" if method == "aer" else ""))
    features, labels, n_wires, identity = validation_subset(data, encoder, n_valid, seed)
    identity = {"scorer": method, **identity, "readout": readout, "device": device.name,
                "calibration": device.properties()}
    if shots:
        identity["shots"] = shots
    return DeviceScorer(device, features, labels, n_wires, n_classes or data.n_classes, readout,
                          method=method, shots=shots or 0, seed=seed, threads=threads,
                          identity=identity)


def density_scorer(data, *, encoder: str, n_classes: int | None = None, readout: str = "auto",
                   n_valid: int = 500, seed: int = 0, n_physical: int | None = None,
                   **options) -> DeviceScorer:
    """The ``"density"`` factory: exact noisy loss on ``n_valid`` validation samples."""
    return _make("density", data, encoder, n_classes, readout, n_valid, seed, n_physical, options)


def aer_scorer(data, *, encoder: str, n_classes: int | None = None, readout: str = "auto",
               n_valid: int = 500, seed: int = 0, n_physical: int | None = None,
               **options) -> DeviceScorer:
    """The ``"aer"`` factory: the loss from Aer with ``shots`` per sample (default 8192)."""
    return _make("aer", data, encoder, n_classes, readout, n_valid, seed, n_physical, options)


__all__ = ["DeviceScorer", "aer_scorer", "density_scorer"]
