"""Devices: calibration data (coupling map, basis, gate errors and durations, T1/T2, readout)
plus the Aer noise model built from it.

A :class:`Device` comes from a fake backend of ``qiskit_ibm_runtime.fake_provider`` by name
(:meth:`Device.from_name`), from any qiskit ``BackendV2`` (:meth:`Device.from_backend`) or
from a calibration dict a user has in hand (:meth:`Device.from_properties`).  Its
``noise_model`` is built the way ``NoiseModel.from_backend`` builds one, by handing aer a
``Target`` made from the Device's own data: each gate's error becomes a depolarizing part
composed with thermal relaxation from T1/T2 over the gate's duration, each qubit's two
assignment probabilities a readout error.

Units: T1, T2 and durations are seconds on the Device; the calibration dict (the format of
``DESIGN.md``) gives T1/T2 in microseconds as IBM's tables do.

>>> from noise.devices import Device
>>> dev = Device.from_name("santiago")
>>> dev.name, dev.n_qubits, dev.basis_gates
('santiago', 5, ('cx', 'id', 'rz', 'sx', 'x'))
>>> dev.coupling_map[:3]
[(0, 1), (1, 0), (1, 2)]
>>> round(dev.gate_error("cx", (0, 1)), 6), round(dev.gate_duration("cx", (0, 1)) * 1e9, 1)
(0.0063, 526.2)
>>> custom = Device.from_properties(dev.properties(), dev.coupling_map)
>>> custom.gate_error("cx", (0, 1)) == dev.gate_error("cx", (0, 1))
True
>>> sorted(dev.noise_model.noise_instructions)
['cx', 'id', 'measure', 'reset', 'sx', 'x']

Nothing of qiskit is imported until a Device is built (``import noise.devices`` stays cheap).
"""

from __future__ import annotations

import functools
import json
import math
import os
from typing import Any, Iterable, Mapping

# Default durations (seconds) for Device.from_properties when none are given: IBM Falcon
# values rounded; rz is virtual (a frame change) and takes no time.
DEFAULT_1Q_DURATION = 35.5e-9
DEFAULT_2Q_DURATION = 400e-9
VIRTUAL_GATES = ("rz",)
QUBIT_FIELDS = ("T1", "T2", "prob_meas0_prep1", "prob_meas1_prep0")
# instructions that are not gates but that a device's Target carries per qubit
_NON_GATES = ("measure", "reset", "delay")


class Device:
    """Calibration data of a device and its Aer noise model.

    Build one with :meth:`from_name`, :meth:`from_backend`, :meth:`from_properties` or
    :meth:`from_json`; the attributes are read from that source, never assumed:

    - ``name`` (short, e.g. ``"santiago"``), ``n_qubits``, ``coupling_map`` (sorted list of
      directed ``(a, b)`` pairs), ``basis_gates`` (sorted tuple of gate names), ``dt``
      (seconds or None);
    - ``t1``, ``t2``: tuples per qubit in seconds (``inf`` where unknown; T2 is clipped to
      2*T1, as aer clips it when it builds relaxation errors);
    - ``readout``: per qubit ``(p1_given_0, p0_given_1)``;
    - ``gate_errors`` ``{(name, qubits): error}`` and ``gate_durations``
      ``{(name, qubits): seconds}`` (the latter also for ``measure`` and ``reset`` where the
      source gives them), with :meth:`gate_error` and :meth:`gate_duration` to look one up.

    A Device is treated as immutable: :meth:`scaled` and the constructors return new ones.
    """

    def __init__(self, *, name: str, n_qubits: int, coupling_map: Iterable[tuple[int, int]],
                 basis_gates: Iterable[str], t1: Iterable[float], t2: Iterable[float],
                 readout: Iterable[tuple[float, float]],
                 gate_errors: Mapping[tuple[str, tuple[int, ...]], float],
                 gate_durations: Mapping[tuple[str, tuple[int, ...]], float],
                 dt: float | None = None, operations: Mapping[str, Any] | None = None):
        """Low level: prefer the ``from_*`` constructors, which validate their input."""
        self.name = str(name)
        self.n_qubits = int(n_qubits)
        self.coupling_map = sorted({(int(a), int(b)) for a, b in coupling_map})
        self.basis_gates = tuple(sorted(basis_gates))
        self.t1 = tuple(float(v) for v in t1)
        self.t2 = tuple(min(float(v), 2 * a) for v, a in zip(t2, self.t1))
        self.readout = tuple((float(p10), float(p01)) for p10, p01 in readout)
        self.gate_errors = {(n, tuple(q)): float(e) for (n, q), e in sorted(gate_errors.items())}
        self.gate_durations = {(n, tuple(q)): float(d) for (n, q), d in sorted(gate_durations.items())}
        self.dt = None if dt is None else float(dt)
        self._operations = dict(operations or {})  # name -> qiskit operation, for custom ones
        if not (len(self.t1) == len(self.t2) == len(self.readout) == self.n_qubits):
            raise ValueError(f"t1, t2 and readout need one entry per qubit ({self.n_qubits}), got "
                             f"{len(self.t1)}, {len(self.t2)} and {len(self.readout)}")

    def __repr__(self) -> str:
        return (f"Device({self.name!r}, n_qubits={self.n_qubits}, edges={len(self.coupling_map)}, "
                f"basis_gates={self.basis_gates})")

    # ------------------------------------------------------------------ constructors

    @classmethod
    def known_names(cls) -> list[str]:
        """The short names :meth:`from_name` accepts (one per fake backend), sorted."""
        return sorted(_fake_backend_classes())

    @classmethod
    def from_name(cls, name: str, properties: Mapping | str | os.PathLike | None = None) -> "Device":
        """The fake backend ``name`` of ``qiskit_ibm_runtime.fake_provider``.

        ``name`` may be written ``santiago``, ``Santiago``, ``FakeSantiago``,
        ``FakeSantiagoV2`` or ``fake_santiago``.  With ``properties`` (a calibration dict or
        the path of a JSON file holding one) the device keeps its coupling map, basis, gate
        durations and ``dt`` and takes that calibration instead; the calibration must give
        exactly the device's gates on exactly its qubits.
        """
        classes = _fake_backend_classes()
        key = _short_name(name)
        if key not in classes:
            raise ValueError(f"unknown device {name!r}; known devices: {', '.join(sorted(classes))}")
        device = cls.from_backend(classes[key](), name=key)
        if properties is None:
            return device
        return device.with_properties(properties)

    @classmethod
    def from_backend(cls, backend, name: str | None = None) -> "Device":
        """The calibration of any qiskit ``BackendV2`` (read from its ``Target``).

        The readout pair of a qubit is ``(prob_meas1_prep0, prob_meas0_prep1)`` of its
        ``measure`` instruction where the Target carries them, else ``(error, error)`` (fake
        backends carry only ``error``), which is what ``NoiseModel.from_backend`` reads.

        >>> from qiskit.providers.fake_provider import GenericBackendV2
        >>> dev = Device.from_backend(GenericBackendV2(num_qubits=5, seed=0))
        >>> dev.name, dev.n_qubits, len(dev.coupling_map)
        ('generic_backend_5q', 5, 20)
        """
        from qiskit.circuit import Gate, Measure, Reset

        if getattr(backend, "version", None) != 2 or not hasattr(backend, "target"):
            raise ValueError(f"expected a qiskit BackendV2, got {type(backend).__name__}")
        target = backend.target
        n = target.num_qubits
        if name is None:
            name = backend.name or "backend"
            name = name[len("fake_"):] if name.startswith("fake_") else name
        qubit_props = target.qubit_properties or [None] * n
        t1 = [_seconds_or_inf(getattr(p, "t1", None)) for p in qubit_props]
        t2 = [_seconds_or_inf(getattr(p, "t2", None), default=2 * a) for p, a in zip(qubit_props, t1)]
        readout = [(0.0, 0.0)] * n
        errors, durations, operations, basis = {}, {}, {}, set()
        for op_name in target.operation_names:
            props = target[op_name]
            operation = target.operation_from_name(op_name)
            if props is None or isinstance(operation, type):  # ideal or control flow
                continue
            is_gate = isinstance(operation, Gate)
            if not is_gate and op_name not in _NON_GATES:
                operations[op_name] = operation  # a custom instruction (e.g. reset_2): kept as is
            for qargs, prop in props.items():
                if qargs is None:
                    continue
                duration = 0.0 if prop is None or prop.duration is None else float(prop.duration)
                if is_gate:
                    basis.add(op_name)
                    errors[(op_name, tuple(qargs))] = 0.0 if prop is None or prop.error is None else float(prop.error)
                    durations[(op_name, tuple(qargs))] = duration
                elif isinstance(operation, Measure) and op_name == "measure":
                    if prop is not None:
                        durations[(op_name, tuple(qargs))] = duration
                        if hasattr(prop, "prob_meas1_prep0") and hasattr(prop, "prob_meas0_prep1"):
                            readout[qargs[0]] = (float(prop.prob_meas1_prep0), float(prop.prob_meas0_prep1))
                        elif prop.error is not None:
                            readout[qargs[0]] = (float(prop.error), float(prop.error))
                elif isinstance(operation, Reset) or op_name in operations:
                    durations[(op_name, tuple(qargs))] = duration  # 0 when unknown: no relaxation
            if is_gate and op_name not in _standard_gates():
                operations[op_name] = operation
        coupling = [tuple(e) for e in target.build_coupling_map().get_edges()] if n > 1 else []
        return cls(name=name, n_qubits=n, coupling_map=coupling, basis_gates=basis, t1=t1, t2=t2,
                   readout=readout, gate_errors=errors, gate_durations=durations,
                   dt=getattr(target, "dt", None), operations=operations)

    @classmethod
    def from_properties(cls, props: Mapping | str | os.PathLike, coupling_map,
                        basis_gates: Iterable[str] = ("cx", "id", "rz", "sx", "x"),
                        durations: Mapping | None = None, name: str = "custom") -> "Device":
        """A device from calibration data in the ``DESIGN.md`` format.

        ``props`` is ``{"qubit": {"0": {"T1": us, "T2": us, "prob_meas0_prep1": p,
        "prob_meas1_prep0": p}, ...}, "gate": {"0": {"sx": err, "x": err, "rz": 0.0},
        "0,1": {"cx": err}, ...}}`` or the path of a JSON file of it; keys may also be ints and
        tuples.  ``coupling_map`` is a list of directed pairs (or a qiskit ``CouplingMap``).
        The device has qubits 0..n-1, n being one more than the largest qubit named in the
        coupling map or in ``props["qubit"]``; every one of them needs its four fields.

        Rules (a ValueError names what breaks them):

        - T1 > 0 and T2 > 0 (microseconds; ``null`` means unknown: no relaxation from it);
          a T2 above 2*T1 is clipped to 2*T1, as IBM's tools and aer do;
        - probabilities and gate errors lie in [0, 1];
        - every one-qubit basis gate needs an error on every qubit, except ``rz`` (virtual:
          error 0 when absent); two-qubit gates exist on the pairs given in ``"gate"``, which
          must be coupling-map edges, and every edge needs at least one two-qubit gate;
        - gate entries must name basis gates on qubits of the device.

        ``durations`` (seconds) maps a gate name to one duration for all its qubits, or
        ``(name, qubits)`` to one instance's; unspecified ones default to 35.5 ns for
        one-qubit gates, 400 ns for two-qubit gates and 0 for ``rz``.  ``measure`` and
        ``reset`` get durations only when given (a reset then relaxes for that long).

        >>> props = {"qubit": {q: {"T1": 100.0, "T2": 80.0, "prob_meas0_prep1": 0.02,
        ...                        "prob_meas1_prep0": 0.01} for q in range(2)},
        ...          "gate": {0: {"sx": 3e-4, "x": 3e-4}, 1: {"sx": 2e-4, "x": 2e-4},
        ...                   (0, 1): {"cx": 1e-2}, "1,0": {"cx": 1e-2}}}
        >>> dev = Device.from_properties(props, [(0, 1), (1, 0)], basis_gates=("cx", "rz", "sx", "x"))
        >>> dev.readout[0], dev.t1[0], dev.gate_duration("cx", (1, 0))
        ((0.01, 0.02), 0.0001, 4e-07)
        """
        props = _load_properties(props)
        if hasattr(coupling_map, "get_edges"):
            coupling_map = coupling_map.get_edges()
        try:
            coupling = [(int(a), int(b)) for a, b in coupling_map]
        except (TypeError, ValueError):
            raise ValueError(f"coupling_map must be a list of (a, b) qubit pairs, got {coupling_map!r}") from None
        if any(a == b or a < 0 or b < 0 for a, b in coupling):
            raise ValueError(f"coupling_map pairs must join two different non-negative qubits: {coupling}")
        basis = tuple(basis_gates)
        arity = {g: _gate_arity(g) for g in basis}
        qubit_keys = [_qubit_key(k, "qubit") for k in props["qubit"]]
        n = max([max(e) + 1 for e in coupling] + [q[0] + 1 for q in qubit_keys] + [0])
        t1, t2, readout = _parse_qubits(props["qubit"], n)
        errors = _parse_gates(props["gate"], n, basis)
        edges = set(coupling)
        for (gate, qubits) in errors:
            if len(qubits) != arity[gate] and arity[gate] is not None:
                raise ValueError(f"gate {gate!r} acts on {arity[gate]} qubit(s), but its entry is on {qubits}")
            if len(qubits) == 2 and qubits not in edges:
                raise ValueError(f"gate {gate!r} on {qubits}: that pair is not in the coupling map")
            if len(qubits) > 2:
                raise ValueError(f"gate {gate!r} on {qubits}: only one- and two-qubit gates are supported")
        for gate in basis:
            if arity[gate] == 1:
                for q in range(n):
                    if (gate, (q,)) not in errors:
                        if gate not in VIRTUAL_GATES:
                            raise ValueError(f"missing error of gate {gate!r} on qubit {q} in props['gate']")
                        errors[(gate, (q,))] = 0.0
        covered = {q for (_, q) in errors if len(q) == 2}
        missing = sorted(edges - covered)
        if missing:
            raise ValueError(f"coupling-map edges without a two-qubit gate error in props['gate']: {missing}")
        return cls(name=name, n_qubits=n, coupling_map=coupling, basis_gates=basis, t1=t1, t2=t2,
                   readout=readout, gate_errors=errors,
                   gate_durations=_durations_for(errors, n, durations))

    def with_properties(self, props: Mapping | str | os.PathLike) -> "Device":
        """This device (coupling map, basis, durations, dt) with the calibration ``props``.

        ``props`` must give an error for exactly this device's gates on exactly its qubits
        and the four fields of every qubit (the rules of :meth:`from_properties`).
        """
        props = _load_properties(props)
        t1, t2, readout = _parse_qubits(props["qubit"], self.n_qubits)
        extra = [_qubit_key(k, "qubit")[0] for k in props["qubit"] if _qubit_key(k, "qubit")[0] >= self.n_qubits]
        if extra:
            raise ValueError(f"props['qubit'] names qubits {sorted(extra)} that {self.name} "
                             f"(qubits 0..{self.n_qubits - 1}) does not have")
        errors = _parse_gates(props["gate"], self.n_qubits, self.basis_gates)
        missing = [k for k in self.gate_errors if k not in errors and k[0] not in VIRTUAL_GATES]
        unknown = [k for k in errors if k not in self.gate_errors]
        if missing:
            raise ValueError(f"props['gate'] lacks {len(missing)} gate error(s) of {self.name}, "
                             f"e.g. {_fmt_keys(missing)}")
        if unknown:
            raise ValueError(f"props['gate'] has gate(s) that {self.name} does not have: {_fmt_keys(unknown)}")
        errors = {k: errors.get(k, 0.0) for k in self.gate_errors}
        return Device(name=self.name, n_qubits=self.n_qubits, coupling_map=self.coupling_map,
                      basis_gates=self.basis_gates, t1=t1, t2=t2, readout=readout, gate_errors=errors,
                      gate_durations=self.gate_durations, dt=self.dt, operations=self._operations)

    # ------------------------------------------------------------------ queries

    def gate_error(self, name: str, qubits) -> float:
        """The error (1 - average gate fidelity) of gate ``name`` on ``qubits``."""
        return self.gate_errors[self._key(name, qubits, self.gate_errors, "gate error")]

    def gate_duration(self, name: str, qubits) -> float:
        """The duration in seconds of instruction ``name`` on ``qubits`` (0 for virtual gates)."""
        return self.gate_durations[self._key(name, qubits, self.gate_durations, "duration")]

    def _key(self, name, qubits, table, what):
        qubits = (int(qubits),) if isinstance(qubits, (int,)) or hasattr(qubits, "__index__") else tuple(
            int(q) for q in qubits)
        if (name, qubits) in table:
            return name, qubits
        if not any(n == name for n, _ in table):
            names = sorted({n for n, _ in table})
            raise ValueError(f"{self.name} has no {what} for {name!r}; it has: {', '.join(names)}")
        raise ValueError(f"{self.name} has no {name!r} on qubits {qubits}")

    def properties(self) -> dict:
        """The calibration in the ``DESIGN.md`` format (string keys, T1/T2 in us; JSON-ready).

        ``Device.from_properties(dev.properties(), dev.coupling_map, dev.basis_gates)`` gives
        back the same errors, T1/T2 and readout.  An unknown (infinite) T1 or T2 is ``None``.
        """
        qubits = {}
        for q in range(self.n_qubits):
            p10, p01 = self.readout[q]
            qubits[str(q)] = {"T1": _us_or_none(self.t1[q]), "T2": _us_or_none(self.t2[q]),
                              "prob_meas0_prep1": p01, "prob_meas1_prep0": p10}
        gates: dict[str, dict[str, float]] = {}
        for (name, qs), err in self.gate_errors.items():
            gates.setdefault(",".join(map(str, qs)), {})[name] = err
        return {"qubit": qubits, "gate": gates}

    def summary(self) -> dict[str, float]:
        """Medians and means of the calibration (errors, readout, T1/T2 in us), for tables."""
        import statistics

        def stats(values, tag):
            values = [v for v in values if math.isfinite(v)]
            if not values:
                return {f"median_{tag}": float("nan"), f"mean_{tag}": float("nan")}
            return {f"median_{tag}": statistics.median(values), f"mean_{tag}": statistics.fmean(values)}

        one_q = [e for (n, q), e in self.gate_errors.items() if n == "sx"]
        two_q = [e for (n, q), e in self.gate_errors.items() if len(q) == 2]
        readout = [(a + b) / 2 for a, b in self.readout]
        return {**stats(one_q, "sx_error"), **stats(two_q, "2q_error"), **stats(readout, "readout_error"),
                **stats([t * 1e6 for t in self.t1], "t1_us"), **stats([t * 1e6 for t in self.t2], "t2_us")}

    # ------------------------------------------------------------------ derived devices

    def scaled(self, factor: float) -> "Device":
        """A new Device with every error rate multiplied by ``factor``.

        Gate errors are clipped to d/(d+1) (d = 2**qubits, the largest average gate
        infidelity a channel can have; aer clips there too), readout probabilities to 1;
        T1 and T2 are divided by ``factor`` (relaxation rates multiplied), so ``factor=0``
        gives a noiseless device with infinite T1/T2.  Durations, coupling map and basis stay.
        The name becomes e.g. ``"santiago*2"``.

        >>> dev = Device.from_name("santiago")
        >>> double = dev.scaled(2)
        >>> double.gate_error("cx", (0, 1)) == 2 * dev.gate_error("cx", (0, 1)), double.t1[0] == dev.t1[0] / 2
        (True, True)
        """
        factor = float(factor)
        if not (factor >= 0 and math.isfinite(factor)):
            raise ValueError(f"scale factor must be a finite number >= 0, got {factor}")
        errors = {(n, q): min(e * factor, 2 ** len(q) / (2 ** len(q) + 1)) for (n, q), e in self.gate_errors.items()}
        readout = [(min(a * factor, 1.0), min(b * factor, 1.0)) for a, b in self.readout]
        t1 = [t / factor if factor else math.inf for t in self.t1]
        t2 = [t / factor if factor else math.inf for t in self.t2]
        return Device(name=f"{self.name}*{factor:g}", n_qubits=self.n_qubits, coupling_map=self.coupling_map,
                      basis_gates=self.basis_gates, t1=t1, t2=t2, readout=readout, gate_errors=errors,
                      gate_durations=self.gate_durations, dt=self.dt, operations=self._operations)

    # ------------------------------------------------------------------ JSON

    def to_json(self) -> str:
        """Everything this Device holds, as JSON text (:meth:`from_json` reads it back)."""
        record = {"name": self.name, "n_qubits": self.n_qubits, "coupling_map": self.coupling_map,
                  "basis_gates": list(self.basis_gates), "dt": self.dt, "properties": self.properties(),
                  "durations": [[n, list(q), d] for (n, q), d in self.gate_durations.items()]}
        return json.dumps(record, indent=1)

    @classmethod
    def from_json(cls, text_or_path: str | os.PathLike) -> "Device":
        """A Device from :meth:`to_json`'s text or the path of a file holding it."""
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            with open(text_or_path) as f:
                text = f.read()
        record = json.loads(text)
        durations = {(n, tuple(q)): d for n, q, d in record["durations"]}
        dev = cls.from_properties(record["properties"], record["coupling_map"], record["basis_gates"],
                                  durations=durations, name=record["name"])
        if dev.n_qubits != record["n_qubits"]:
            raise ValueError(f"record says {record['n_qubits']} qubits, its properties give {dev.n_qubits}")
        dev.dt = record["dt"]
        return dev

    # ------------------------------------------------------------------ aer

    @functools.cached_property
    def noise_model(self):
        """The ``qiskit_aer.noise.NoiseModel`` of this calibration (built once, then cached).

        Built by ``NoiseModel.from_backend`` on a backend whose ``Target`` holds this Device's
        data (temperature 0): per gate a depolarizing error composed with thermal relaxation
        over the gate's duration, relaxation on ``reset`` where it has a duration, a readout
        error per qubit, and aer's relaxation pass for ``delay``.
        """
        from qiskit_aer.noise import NoiseModel

        return NoiseModel.from_backend(_TargetBackend(self.target(), self.name))

    def target(self):
        """A qiskit ``Target`` holding this Device's calibration (a new one per call)."""
        from qiskit.circuit import Delay, Gate, Instruction, Measure, Parameter
        from qiskit.transpiler import InstructionProperties, QubitProperties, Target

        qubit_props = [QubitProperties(t1=None if math.isinf(a) else a, t2=None if math.isinf(b) else b)
                       for a, b in zip(self.t1, self.t2)]
        target = Target(description=self.name, num_qubits=self.n_qubits, dt=self.dt,
                        qubit_properties=qubit_props)
        standard = _standard_gates()
        per_name: dict[str, dict] = {}
        for (name, qubits), err in self.gate_errors.items():
            per_name.setdefault(name, {})[qubits] = InstructionProperties(
                duration=self.gate_durations.get((name, qubits), 0.0), error=err)
        for name in self.basis_gates:
            op = self._operations.get(name) or standard.get(name)
            if op is None:
                n_q = len(next(iter(per_name[name])))
                op = Gate(name, n_q, [])
            target.add_instruction(op, per_name.get(name, {}), name=name)
        custom = sorted(n for n in self._operations if n not in standard and n not in self.basis_gates)
        for name in ["reset", *custom]:
            props = {q: InstructionProperties(duration=d) for (n, q), d in self.gate_durations.items() if n == name}
            if not props:
                continue
            if name == "reset":
                props = {(q,): props.get((q,)) for q in range(self.n_qubits)}
            op = self._operations.get(name) or standard.get(name) or Instruction(name, 1, 0, [])
            target.add_instruction(op, props, name=name)
        target.add_instruction(Delay(Parameter("t")), {(q,): None for q in range(self.n_qubits)})
        measure = {}
        for q, (p10, p01) in enumerate(self.readout):
            prop = InstructionProperties(duration=self.gate_durations.get(("measure", (q,))),
                                         error=(p10 + p01) / 2)
            # aer's basic_device_readout_errors reads these two attributes when present
            prop.prob_meas1_prep0, prop.prob_meas0_prep1 = p10, p01
            measure[(q,)] = prop
        target.add_instruction(Measure(), measure)
        return target


# ---------------------------------------------------------------------- helpers


def _target_backend_class():
    from qiskit.providers import BackendV2, Options

    class TargetBackend(BackendV2):
        """The least BackendV2 that hands a Target to ``NoiseModel.from_backend``."""

        def __init__(self, target, name):
            super().__init__(name=name)
            self._target = target

        @property
        def target(self):
            return self._target

        @property
        def max_circuits(self):
            return None

        @classmethod
        def _default_options(cls):
            return Options()

        def run(self, run_input, **options):
            raise NotImplementedError("this backend only carries a Target")

    return TargetBackend


def _TargetBackend(target, name):
    return _target_backend_class()(target, name)


@functools.lru_cache(maxsize=None)
def _standard_gates() -> dict:
    from qiskit.circuit.library import get_standard_gate_name_mapping

    return get_standard_gate_name_mapping()


@functools.lru_cache(maxsize=None)
def _fake_backend_classes() -> dict:
    """Short name -> class, for every BackendV2 of ``qiskit_ibm_runtime.fake_provider``."""
    import inspect

    from qiskit.providers import BackendV2
    from qiskit_ibm_runtime import fake_provider

    return {_short_name(n): c for n, c in vars(fake_provider).items()
            if n.startswith("Fake") and inspect.isclass(c) and issubclass(c, BackendV2)}


def _short_name(name: str) -> str:
    key = str(name).strip().lower().replace("-", "").replace("_", "")
    key = key[len("fake"):] if key.startswith("fake") else key
    for suffix in ("v2", "backend"):
        key = key[: -len(suffix)] if key.endswith(suffix) and len(key) > len(suffix) else key
    return key


def _gate_arity(name: str) -> int | None:
    op = _standard_gates().get(name)
    if op is None:
        return None
    if name in _NON_GATES:
        raise ValueError(f"{name!r} is not a gate; basis_gates lists gates only")
    return op.num_qubits


def _seconds_or_inf(value, default=math.inf) -> float:
    return default if value is None else float(value)


def _us_or_none(seconds: float):
    return None if math.isinf(seconds) else seconds * 1e6


def _fmt_keys(keys, limit=5) -> str:
    text = ", ".join(f"{n}{tuple(q)}" for n, q in keys[:limit])
    return text + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def _load_properties(props) -> dict:
    if isinstance(props, (str, os.PathLike)):
        with open(props) as f:
            props = json.load(f)
    if not isinstance(props, Mapping):
        raise ValueError(f"calibration must be a dict (or a JSON file of one), got {type(props).__name__}")
    for part in ("qubit", "gate"):
        if not isinstance(props.get(part), Mapping):
            raise ValueError(f"calibration needs a {part!r} dict (the DESIGN.md format), got keys {sorted(props)}")
    return props


def _qubit_key(key, part: str) -> tuple[int, ...]:
    """"3" / 3 / "0,1" / "0_1" / (0, 1) -> a tuple of ints."""
    try:
        if isinstance(key, str):
            qubits = tuple(int(s) for s in key.replace("_", ",").split(","))
        elif isinstance(key, Iterable):
            qubits = tuple(int(q) for q in key)
        else:
            qubits = (int(key),)
    except (TypeError, ValueError):
        raise ValueError(f"props[{part!r}] key {key!r} is not a qubit or a comma-separated list of qubits") from None
    if not qubits or any(q < 0 for q in qubits):
        raise ValueError(f"props[{part!r}] key {key!r} is not a qubit or a comma-separated list of qubits")
    return qubits


def _probability(value, what: str) -> float:
    try:
        p = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{what} must lie in [0, 1], got {p}")
    return p


def _parse_qubits(table: Mapping, n: int):
    by_qubit = {}
    for key, fields in table.items():
        q = _qubit_key(key, "qubit")
        if len(q) != 1:
            raise ValueError(f"props['qubit'] key {key!r} must name one qubit")
        if q[0] in by_qubit:
            raise ValueError(f"props['qubit'] names qubit {q[0]} twice")
        by_qubit[q[0]] = fields
    missing = [q for q in range(n) if q not in by_qubit]
    if missing:
        raise ValueError(f"props['qubit'] lacks qubit(s) {missing} of the device (qubits 0..{n - 1})")
    t1, t2, readout = [], [], []
    for q in range(n):
        fields = by_qubit[q]
        if not isinstance(fields, Mapping):
            raise ValueError(f"props['qubit'][{q}] must be a dict of {QUBIT_FIELDS}")
        absent = [f for f in QUBIT_FIELDS if f not in fields]
        if absent:
            raise ValueError(f"props['qubit'][{q}] lacks field(s) {absent} (needs {list(QUBIT_FIELDS)})")
        times = []
        for field in ("T1", "T2"):
            value = fields[field]
            if value is None:
                times.append(math.inf)
                continue
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"props['qubit'][{q}]['{field}'] must be a number of microseconds, "
                                 f"got {value!r}") from None
            if not value > 0:
                raise ValueError(f"props['qubit'][{q}]['{field}'] must be positive (microseconds), got {value}")
            times.append(value / 1e6)
        t1.append(times[0])
        t2.append(min(times[1], 2 * times[0]))  # clipped like aer: T2 <= 2*T1
        readout.append((_probability(fields["prob_meas1_prep0"], f"props['qubit'][{q}]['prob_meas1_prep0']"),
                        _probability(fields["prob_meas0_prep1"], f"props['qubit'][{q}]['prob_meas0_prep1']")))
    return t1, t2, readout


def _parse_gates(table: Mapping, n: int, basis: tuple[str, ...]) -> dict:
    errors = {}
    for key, entries in table.items():
        qubits = _qubit_key(key, "gate")
        outside = [q for q in qubits if q >= n]
        if outside:
            raise ValueError(f"props['gate'][{key!r}] is on qubit(s) {outside}, but the device has qubits "
                             f"0..{n - 1}")
        if len(set(qubits)) != len(qubits):
            raise ValueError(f"props['gate'][{key!r}] repeats a qubit")
        if not isinstance(entries, Mapping):
            raise ValueError(f"props['gate'][{key!r}] must be a dict of gate name -> error")
        for gate, err in entries.items():
            if gate not in basis:
                raise ValueError(f"props['gate'][{key!r}] has gate {gate!r}, which is not a basis gate "
                                 f"{list(basis)}")
            errors[(gate, qubits)] = 0.0 if err is None else _probability(err, f"props['gate'][{key!r}][{gate!r}]")
    return errors


def _durations_for(errors: Mapping, n: int, durations: Mapping | None) -> dict:
    given = dict(durations or {})
    per_name, per_instance = {}, {}
    for key, value in given.items():
        if isinstance(key, str):
            per_name[key] = value
        else:
            try:
                name, qubits = key
                per_instance[(str(name), tuple(int(q) for q in qubits))] = value
            except (TypeError, ValueError):
                raise ValueError(f"durations key {key!r} must be a gate name or (name, qubits)") from None
    for key, value in list(per_name.items()) + list(per_instance.items()):
        if value is None or not float(value) >= 0:
            raise ValueError(f"duration of {key!r} must be a number of seconds >= 0, got {value!r}")
    out = {}
    for (name, qubits) in errors:
        default = 0.0 if name in VIRTUAL_GATES else (DEFAULT_1Q_DURATION if len(qubits) == 1 else DEFAULT_2Q_DURATION)
        out[(name, qubits)] = float(per_instance.get((name, qubits), per_name.get(name, default)))
    for name in ("measure", "reset"):
        for q in range(n):
            value = per_instance.get((name, (q,)), per_name.get(name))
            if value is not None:
                out[(name, (q,))] = float(value)
    return out


__all__ = ["Device", "DEFAULT_1Q_DURATION", "DEFAULT_2Q_DURATION"]
