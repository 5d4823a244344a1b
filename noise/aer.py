"""Run circuits and QNNs on a device's Aer noise model.

A :class:`qml.Circuit` is transpiled once per structure (its trainable parameters and input
features stay symbolic) to the device's basis gates and coupling map, with an optional
logical-wire -> physical-qubit ``mapping``; a batch of samples then runs as one Aer job by
parameter binding. :func:`expectations` returns ``<Z>`` per logical wire, shaped and ordered
like ``qml.expval_z(qml.simulate(circuit, params, inputs))``, so one accuracy function serves
the noise-free engine and the device:

- ``shots=N`` (default 8192): the logical wires are measured at the physical qubits where
  their states end after routing (:attr:`Transpiled.final`), into classical bits in logical
  order, with the device's full noise model (gate errors, errors during measurement, readout
  error) or, with ``noise=False``, shot noise only.
- ``shots=None``: exact ``<Z>`` from Aer's ``density_matrix`` method: the noise model's
  gate errors, its error channels on ``measure`` and its (single-qubit) readout errors are
  all included, so the result is the limit of the shot estimate for infinitely many shots.
- ``shots=N, sampling="probabilities"``: the same exact distribution of the measured bits,
  with the shots drawn from it by numpy (~20x faster than Aer's shots at 8192 shots per
  sample).

qiskit and qiskit-aer are imported inside the functions: ``import noise.aer`` stays cheap.

Example:
    >>> import torch, qml
    >>> from noise.devices import Device
    >>> from noise.aer import expectations, transpile_for
    >>> device = Device.from_name("santiago")
    >>> c = qml.Circuit(2).ry(0, qml.Input(0)).cx(0, 1).rz(1, "theta")
    >>> t = transpile_for(c, device, mapping=[3, 4])
    >>> t.initial, t.final
    ((3, 4), (3, 4))
    >>> z = expectations(c, device, {"theta": 0.3}, torch.tensor([[0.0], [3.1416]]), shots=None,
    ...                  noise=False)
    >>> z.round(decimals=4)
    tensor([[ 1.,  1.],
            [-1., -1.]], dtype=torch.float64)
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from qml.circuit import Circuit

#: Parameter binds per Aer job: larger batches run as several jobs (with a progress bar).
CHUNK_SIZE = 1000
#: Transpilations kept in the cache (least recently used dropped first).
CACHE_SIZE = 256
#: ``noise`` values: True / "full" (the device's noise model), False / "shots" (shot noise only).
NOISE_MODES = (True, False, "full", "shots")
#: How shots are drawn: by Aer, or by numpy from Aer's exact distribution of the measured bits.
SAMPLINGS = ("aer", "probabilities")
#: Most wires for ``sampling="probabilities"`` (2**n probabilities per sample).
SAMPLED_WIRES_MAX = 16

_INPUT_VECTOR = "input"  # qml.interop's name for the input-feature ParameterVector
_cache: OrderedDict = OrderedDict()


@dataclass(frozen=True, eq=False)
class Transpiled:
    """A circuit transpiled for a device: basis gates, coupling map, layout.

    Attributes:
        circuit: the transpiled ``qiskit.QuantumCircuit`` on all device qubits, no
            measurements, parameters still symbolic.
        initial: logical wire -> physical qubit where the wire starts.
        final: logical wire -> physical qubit holding that wire's state at the end (after
            the routing swaps); measure wire ``w`` on ``final[w]``.
        depth: depth of the transpiled circuit.
        count_ops: gate name -> count in the transpiled circuit.
        qubits: the physical qubits the circuit touches (gates, and the logical wires' start
            and end qubits), sorted.
        device: the device's name.
        source: the logical :class:`qml.Circuit` that was transpiled.
    """

    circuit: Any
    initial: tuple[int, ...]
    final: tuple[int, ...]
    depth: int
    count_ops: dict
    qubits: tuple[int, ...]
    device: str
    source: Circuit
    _runnable: dict = field(default_factory=dict, repr=False)  # measured / saved variants

    @property
    def n_wires(self) -> int:
        return len(self.initial)

    def runnable(self, kind: str, noise_model=None):
        """``(circuit, readout)``: the circuit ending in ``kind``, for every logical wire at its
        final qubit: ``"counts"`` measurements into classical bits in logical order, ``"z"``
        exact ``<Z>`` saves, ``"probs"`` a save of the exact distribution of the wires' bits.

        Before ``"z"`` and ``"probs"`` saves, the error channels ``noise_model`` puts on
        ``measure`` are applied (Aer applies them before a measurement), and the readout
        matrices of the wires are returned (one per wire, or None) to be applied to the exact
        results; ``"counts"`` returns ``readout=None`` (Aer applies it to every shot).
        """
        exact = kind != "counts"
        key = (kind, id(noise_model) if exact else None)
        hit = self._runnable.get(key)
        if hit is None or hit[0] is not noise_model:
            errors, readout = _measurement_noise(noise_model, self.final) if exact else ({}, None)
            hit = (noise_model, _with_readout(self, kind, errors), readout)
            if len(self._runnable) >= 8:
                self._runnable.clear()
            self._runnable[key] = hit
        return hit[1], hit[2]


def _with_readout(t: Transpiled, kind: str, measure_errors: Mapping[int, Any]):
    from qiskit import ClassicalRegister
    from qiskit.quantum_info import Pauli

    qc = t.circuit.copy()
    n = t.n_wires
    if kind == "counts":
        creg = ClassicalRegister(n, "meas")
        qc.add_register(creg)
        for w, q in enumerate(t.final):
            qc.measure(q, creg[w])
        return qc
    for q in t.final:
        if q in measure_errors:
            qc.append(measure_errors[q], [q])
    if kind == "probs":  # index bit w (little-endian over the listed qubits) is wire w
        qc.save_probabilities(list(t.final), label="probs")
        return qc
    # Z_w as a Pauli on all the final qubits: aer 0.18 misplaces one-qubit saves on qubits
    # without gates when it truncates idle qubits (a wire mapped to an idle qubit)
    for w in range(n):
        label = "".join("Z" if i == w else "I" for i in reversed(range(n)))
        qc.save_expectation_value(Pauli(label), list(t.final), label=f"z{w}")
    return qc


# --- transpilation ------------------------------------------------------------------------------

def transpile_for(circuit: Circuit, device, mapping: Sequence[int] | None = None, seed: int = 0,
                  optimization_level: int = 1) -> Transpiled:
    """``circuit`` transpiled to ``device``'s basis gates and coupling map (cached).

    ``mapping[w]`` is the physical qubit of logical wire ``w`` (distinct qubits of the device),
    or ``None`` to let the transpiler choose. Parameters and input features stay symbolic, so
    one transpilation serves every sample and every parameter value: the result is cached on
    the circuit's structure, the device's qubit count, basis and coupling map, the mapping,
    the seed and the optimization level, and the same :class:`Transpiled` object is returned.
    """
    if not isinstance(circuit, Circuit):
        raise ValueError(f"expected a qml.Circuit, got {type(circuit).__name__}")
    n_qubits = int(device.n_qubits)
    if circuit.n_wires > n_qubits:
        raise ValueError(f"the circuit has {circuit.n_wires} wires but device {device.name!r} has "
                         f"only {n_qubits} qubits")
    mapping = _check_mapping(mapping, circuit.n_wires, n_qubits, device.name)
    if any(op.name == "measure" for op in circuit.ops):
        raise ValueError("the circuit must not contain measurements: every logical wire is measured "
                         "at the end (drop the measure ops)")
    if optimization_level not in (0, 1, 2, 3):
        raise ValueError(f"optimization_level must be 0, 1, 2 or 3, got {optimization_level!r}")
    coupling = None if device.coupling_map is None else tuple(sorted(
        (int(a), int(b)) for a, b in device.coupling_map))
    key = (circuit.to_json(), n_qubits, tuple(device.basis_gates), coupling, mapping, int(seed),
           optimization_level)
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    result = _transpile(circuit, device, n_qubits, coupling, mapping, int(seed), optimization_level)
    _cache[key] = result
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return result


def clear_cache() -> None:
    """Forget every cached transpilation."""
    _cache.clear()


def _check_mapping(mapping, n_wires: int, n_qubits: int, name: str) -> tuple[int, ...] | None:
    if mapping is None:
        return None
    if isinstance(mapping, (str, bytes, Mapping)) or not isinstance(mapping, Sequence):
        raise ValueError(f"mapping must be a list of physical qubits, one per logical wire, "
                         f"got {mapping!r}")
    if len(mapping) != n_wires:
        raise ValueError(f"mapping gives {len(mapping)} qubit(s) for a circuit of {n_wires} wires: "
                         f"give one physical qubit per logical wire")
    qubits = []
    for q in mapping:
        if isinstance(q, bool) or not isinstance(q, (int, np.integer)):
            raise ValueError(f"mapping entries must be qubit indices, got {q!r}")
        if not 0 <= q < n_qubits:
            raise ValueError(f"qubit {q} of mapping {list(mapping)} is outside device {name!r} "
                             f"(qubits 0..{n_qubits - 1})")
        qubits.append(int(q))
    repeated = sorted({q for q in qubits if qubits.count(q) > 1})
    if repeated:
        raise ValueError(f"mapping {qubits} uses qubit(s) {repeated} more than once: each logical "
                         f"wire needs its own qubit")
    return tuple(qubits)


def _transpile(circuit: Circuit, device, n_qubits: int, coupling, mapping, seed: int,
               level: int) -> Transpiled:
    from qiskit import transpile
    from qiskit.transpiler import CouplingMap

    cmap = None
    if coupling is not None:
        cmap = CouplingMap()
        for q in range(n_qubits):
            cmap.add_physical_qubit(q)
        for a, b in coupling:
            cmap.add_edge(a, b)
    qc = circuit.to_qiskit()
    n = circuit.n_wires
    if cmap is None:  # any qubits may interact: place the wires on the device register ourselves
        from qiskit import QuantumCircuit
        wide = QuantumCircuit(n_qubits, global_phase=qc.global_phase)
        placed = list(mapping or range(n))
        wide.compose(qc, qubits=placed, inplace=True)
        qc, mapping = wide, None
    else:
        placed = list(range(n))  # the transpiler's virtual qubits are our wires
    tqc = transpile(qc, basis_gates=list(device.basis_gates), coupling_map=cmap,
                    initial_layout=None if mapping is None else list(mapping),
                    seed_transpiler=seed, optimization_level=level)
    if tqc.layout is not None:
        start = tqc.layout.initial_index_layout(filter_ancillas=True)
        end = tqc.layout.final_index_layout(filter_ancillas=True)
        initial = tuple(int(start[v]) for v in placed)
        final = tuple(int(end[v]) for v in placed)
    else:
        initial = final = tuple(placed)
    touched = {tqc.find_bit(q).index for inst in tqc.data for q in inst.qubits}
    return Transpiled(circuit=tqc, initial=initial, final=final, depth=tqc.depth(),
                      count_ops=dict(tqc.count_ops()),
                      qubits=tuple(sorted(touched | set(initial) | set(final))), device=device.name,
                      source=circuit)


# --- execution ----------------------------------------------------------------------------------

def expectations(circuit: Circuit | Transpiled, device, params=None, inputs=None, *, shots: int | None = 8192,
                 seed: int = 0, mapping: Sequence[int] | None = None, noise: bool | str = True,
                 method: str = "automatic", sampling: str = "aer", optimization_level: int = 1,
                 chunk_size: int = CHUNK_SIZE, progress: bool = True, threads: int = 0) -> torch.Tensor:
    """``<Z>`` of every logical wire on ``device``, shape ``(batch, n_wires)`` (float64).

    ``circuit`` is a :class:`qml.Circuit` (transpiled here, once: see :func:`transpile_for`)
    or a :class:`Transpiled` one (then ``mapping``, ``optimization_level`` and the transpiler
    seed are those it was made with; ``device`` must have the same qubits, e.g. the device it
    was transpiled for, or that device scaled). ``params`` and ``inputs`` are given as to
    :func:`qml.simulate`: the trainable parameters as a dict name -> value or values ordered
    like ``circuit.parameters``, shared ``(p,)`` or per sample ``(batch, p)``; the input
    features ``(batch, n_features)``. The whole batch runs as one Aer job per ``chunk_size``
    samples, on one cached transpilation.

    Exact runs cost a density matrix over every qubit the transpiled circuit touches
    (:attr:`Transpiled.qubits`, routing qubits included): keep them to about 12.

    Args:
        shots: shots per sample, or ``None`` for exact ``<Z>`` (Aer's density matrix; the
            statevector without noise).
        seed: seeds the transpiler and the simulator.
        mapping: logical wire -> physical qubit, or ``None`` for the transpiler's choice.
        noise: ``True`` (or ``"full"``): the device's noise model; ``False`` (or ``"shots"``):
            the same transpiled circuit without noise (shot noise only when ``shots`` is set).
        method: Aer's simulation method (``"automatic"``, ``"statevector"``,
            ``"density_matrix"``, ...); ``shots=None`` with noise needs ``"density_matrix"``,
            which ``"automatic"`` then selects.
        sampling: ``"aer"``: Aer measures every shot (noise sampled as Aer does it);
            ``"probabilities"``: Aer gives each sample's exact distribution of the measured
            bits (measure errors and readout included, as for ``shots=None``) and the shots are
            drawn from it with numpy, seeded: the same distribution, ~20x faster at 8192 shots
            (Aer spends ~10 us per shot on its results). Up to 16 wires.
        progress: show a progress bar when the batch takes more than one job.
        threads: Aer's ``max_parallel_threads`` (0: all cores, Aer's default).
    """
    return _execute(circuit, device, params, inputs, shots=shots, seed=seed, mapping=mapping, noise=noise,
                    method=method, sampling=sampling, optimization_level=optimization_level,
                    chunk_size=chunk_size, progress=progress, threads=threads, output="z")


def distributions(circuit: Circuit | Transpiled, device, params=None, inputs=None, *, shots: int = 8192,
                  seed: int = 0, mapping: Sequence[int] | None = None, noise: bool | str = True,
                  method: str = "automatic", sampling: str = "aer", optimization_level: int = 1,
                  chunk_size: int = CHUNK_SIZE, progress: bool = True, threads: int = 0) -> torch.Tensor:
    """Measured frequencies of every outcome of the logical wires, ``(batch, 2**n_wires)`` (float64).

    The same runs as :func:`expectations` (same arguments, shots required), returning the
    whole distribution of the measured bits instead of ``<Z>`` per wire; outcome ``i`` is
    indexed in this package's bit order (wire 0 the most significant bit), like
    ``qml.probabilities``.

    Example:
        >>> import torch, qml
        >>> from noise.devices import Device
        >>> c = qml.Circuit(2).x(0)
        >>> distributions(c, Device.from_name("santiago"), shots=100, noise=False)
        tensor([[0., 0., 1., 0.]], dtype=torch.float64)
    """
    if shots is None:
        raise ValueError("distributions are measured frequencies: give shots (a positive integer)")
    return _execute(circuit, device, params, inputs, shots=shots, seed=seed, mapping=mapping, noise=noise,
                    method=method, sampling=sampling, optimization_level=optimization_level,
                    chunk_size=chunk_size, progress=progress, threads=threads, output="distribution")


def _execute(circuit, device, params, inputs, *, shots, seed, mapping, noise, method, sampling,
             optimization_level, chunk_size, progress, threads, output) -> torch.Tensor:
    kind, noisy = _check_run_options(shots, noise, method, sampling, chunk_size)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ValueError(f"threads must be an integer >= 0 (0: all cores), got {threads!r}")
    if isinstance(circuit, Transpiled):
        transpiled = circuit
        if transpiled.circuit.num_qubits != device.n_qubits:
            raise ValueError(f"the circuit was transpiled for {transpiled.circuit.num_qubits} qubits "
                             f"({transpiled.device!r}); device {device.name!r} has {device.n_qubits}")
        if mapping is not None and tuple(mapping) != transpiled.initial:
            raise ValueError(f"the transpiled circuit starts on qubits {list(transpiled.initial)}, "
                             f"not on mapping {list(mapping)}")
    else:
        transpiled = transpile_for(circuit, device, mapping, seed, optimization_level)
    columns, batch = _bind_columns(transpiled.source, params, inputs)
    if kind == "probs" and transpiled.n_wires > SAMPLED_WIRES_MAX:
        raise ValueError(f"sampling='probabilities' holds 2**n_wires probabilities per sample: at "
                         f"most {SAMPLED_WIRES_MAX} wires, got {transpiled.n_wires}; use sampling='aer'")
    return _run(transpiled, device, columns, batch, shots=shots, seed=seed, kind=kind,
                noisy=noisy, method=method, chunk_size=chunk_size, progress=progress, threads=threads,
                output=output)


def _check_run_options(shots, noise, method, sampling, chunk_size) -> tuple[str, bool]:
    if shots is not None and (isinstance(shots, bool) or not isinstance(shots, int) or shots < 1):
        raise ValueError(f"shots must be a positive integer or None (exact), got {shots!r}")
    if not any(noise is m or (isinstance(m, str) and noise == m) for m in NOISE_MODES):
        raise ValueError(f"noise must be True/'full' (the device's noise model) or False/'shots' "
                         f"(shot noise only), got {noise!r}")
    noisy = noise is True or noise == "full"
    if not isinstance(method, str):
        raise ValueError(f"method must be the name of an Aer simulation method, got {method!r}")
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}")
    kind = "z" if shots is None else ("probs" if sampling == "probabilities" else "counts")
    if kind != "counts" and noisy and method not in ("automatic", "density_matrix"):
        what = "exact noisy expectations (shots=None)" if shots is None else \
            "sampling='probabilities' with noise"
        raise ValueError(f"{what} need method 'density_matrix', got {method!r}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    return kind, noisy


def _bind_columns(circuit: Circuit, params, inputs) -> tuple[dict, int]:
    """Per-sample values: ``{("param", name) | ("input", index): float64 array (batch,)}``."""
    names = circuit.parameters
    columns: dict = {}
    batches = set()
    if names:
        if params is None:
            raise ValueError(f"the circuit has {len(names)} trainable parameter(s) "
                             f"{list(names)[:5]} but no params were given")
        if isinstance(params, Mapping):
            missing = [n for n in names if n not in params]
            if missing:
                raise ValueError(f"params has no value for {missing}")
            values = [_as_array(params[n], f"params[{n!r}]") for n in names]
            for v in values:
                if v.ndim > 1:
                    raise ValueError(f"a parameter's value must be a number or one per sample, "
                                     f"got shape {v.shape}")
            for n, v in zip(names, values):
                columns[("param", n)] = v.reshape(-1)
                if v.ndim == 1 and len(v) != 1:
                    batches.add(len(v))
        else:
            array = _as_array(params, "params")
            if array.ndim not in (1, 2) or array.shape[-1] != len(names):
                raise ValueError(f"params must have shape ({len(names)},) or (batch, {len(names)}) "
                                 f"for the circuit's {len(names)} parameters, got {array.shape}")
            array = array.reshape(-1, len(names))
            for i, n in enumerate(names):
                columns[("param", n)] = array[:, i]
            if len(array) != 1:
                batches.add(len(array))
    need = circuit.n_inputs
    if need:
        if inputs is None:
            raise ValueError(f"the circuit reads {need} input feature(s) but no inputs were given")
        array = _as_array(inputs, "inputs")
        if array.ndim == 1:
            array = array.reshape(1, -1)
        if array.ndim != 2 or array.shape[1] < need:
            raise ValueError(f"inputs must have shape (batch, n_features) with at least {need} "
                             f"features, got {array.shape}")
        for i in range(need):
            columns[("input", i)] = array[:, i]
        batches.add(len(array))
    elif inputs is not None:
        array = _as_array(inputs, "inputs")
        if array.ndim == 2:
            batches.add(len(array))
    if len(batches) > 1:
        raise ValueError(f"params and inputs disagree on the batch size: {sorted(batches)}")
    batch = batches.pop() if batches else 1
    if batch < 1:
        raise ValueError("the batch is empty")
    return {k: np.broadcast_to(v, (batch,)) for k, v in columns.items()}, batch


def _as_array(values, what: str) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        if values.is_complex():
            raise ValueError(f"{what} must be real")
        values = values.detach().cpu().double().numpy()
    array = np.asarray(values, dtype=np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{what} contain NaN or infinite values")
    return array


def _run(t: Transpiled, device, columns: dict, batch: int, *, shots, seed, kind, noisy, method,
         chunk_size, progress, threads=0, output="z") -> torch.Tensor:
    """``<Z>`` per wire (``output="z"``) or the frequency of every outcome (``"distribution"``)."""
    from qiskit_aer import AerSimulator

    noise_model = device.noise_model if noisy else None
    if kind != "counts" and method == "automatic":
        method = "density_matrix" if noisy else "statevector"
    qc, readout = t.runnable(kind, noise_model)
    binds_of = _parameter_table(qc, columns)
    simulator = AerSimulator(method=method, noise_model=noise_model, max_parallel_threads=threads)
    aer_shots = shots if kind == "counts" else 1
    rows_kind = "freq" if kind == "counts" and output == "distribution" else kind
    if not binds_of:  # nothing to bind: one run serves every sample
        rows = _rows(simulator.run(qc, shots=aer_shots, seed_simulator=seed).result(), 1,
                     t.n_wires, rows_kind)
        rows = np.repeat(rows, batch, axis=0)
    else:
        starts = range(0, batch, chunk_size)
        bar = None
        if progress and len(starts) > 1:
            from tqdm import tqdm
            bar = tqdm(total=batch, unit="sample", desc=f"aer {t.device}", leave=False)
        parts = []
        for k, start in enumerate(starts):
            stop = min(start + chunk_size, batch)
            binds = {p: col[start:stop].tolist() for p, col in binds_of.items()}
            result = simulator.run(qc, parameter_binds=[binds], shots=aer_shots,
                                   seed_simulator=_chunk_seed(seed, k)).result()
            parts.append(_rows(result, stop - start, t.n_wires, rows_kind))
            if bar is not None:
                bar.update(stop - start)
        if bar is not None:
            bar.close()
        rows = np.concatenate(parts)
    if kind == "z":
        z = rows if readout is None else _apply_readout(rows, readout)
    elif kind == "probs":
        probs = np.clip(rows if readout is None else _readout_probs(rows, readout), 0, None)
        rng = np.random.default_rng(seed)
        counts = rng.multinomial(shots, probs / probs.sum(1, keepdims=True))
        if output == "distribution":
            rows = counts.astype(np.float64) / shots
        z = _z_of_counts(counts.astype(np.float64), t.n_wires)
    else:
        z = rows
    if output == "distribution":  # index bit w is wire w: reverse the bits to put wire 0 first
        n = t.n_wires
        index = np.arange(2 ** n)
        reverse = sum(((index >> w) & 1) << (n - 1 - w) for w in range(n))
        return torch.from_numpy(np.ascontiguousarray(rows[:, reverse], dtype=np.float64))
    return torch.from_numpy(np.ascontiguousarray(z, dtype=np.float64))


def _chunk_seed(seed: int, k: int) -> int:
    if k == 0:
        return seed
    return int(np.random.SeedSequence([seed, k]).generate_state(1)[0] >> 1)


def _parameter_table(qc, columns: dict) -> dict:
    """qiskit Parameter of the transpiled circuit -> its per-sample values."""
    from qiskit.circuit import ParameterVectorElement

    table = {}
    for p in qc.parameters:
        if isinstance(p, ParameterVectorElement) and p.vector.name == _INPUT_VECTOR:
            key = ("input", p.index)
        else:
            key = ("param", p.name)
        if key not in columns:
            raise ValueError(f"the transpiled circuit has parameter {p.name!r} with no value")
        table[p] = columns[key]
    return table


def _rows(result, n: int, n_wires: int, kind: str) -> np.ndarray:
    """``<Z>`` (``"counts"``, ``"z"``) or bit distributions (``"probs"``) of ``n`` experiments."""
    if kind == "probs":
        return np.stack([np.asarray(result.data(i)["probs"], dtype=np.float64) for i in range(n)])
    if kind == "freq":  # outcome frequencies, index bit w = logical wire w
        freq = np.zeros((n, 2 ** n_wires))
        for i in range(n):
            counts = result.data(i)["counts"]
            keys = np.array([int(k, 16) for k in counts], dtype=np.int64)
            values = np.array(list(counts.values()), dtype=np.float64)
            np.add.at(freq[i], keys, values / values.sum())
        return freq
    z = np.empty((n, n_wires))
    for i in range(n):
        data = result.data(i)
        if kind == "z":
            z[i] = [float(np.real(data[f"z{w}"])) for w in range(n_wires)]
            continue
        counts = data["counts"]
        keys = np.array([int(k, 16) for k in counts], dtype=np.int64)
        freq = np.array(list(counts.values()), dtype=np.float64)
        bits = (keys[:, None] >> np.arange(n_wires)[None, :]) & 1  # clbit w = logical wire w
        z[i] = freq @ (1 - 2 * bits) / freq.sum()
    return z


def _z_of_counts(counts: np.ndarray, n_wires: int) -> np.ndarray:
    """``<Z>`` per wire from counts (or probabilities) over indices whose bit w is wire w."""
    bits = (np.arange(counts.shape[1])[:, None] >> np.arange(n_wires)[None, :]) & 1
    return counts @ (1 - 2 * bits) / counts.sum(1, keepdims=True)


def _readout_probs(probs: np.ndarray, matrices) -> np.ndarray:
    """Bit distributions after independent readout errors: ``P(m) = sum_s P(s) P(m|s)``."""
    n = len(matrices)
    b = probs.shape[0]
    t = probs.reshape([b] + [2] * n)  # axis 1 + (n - 1 - w) holds bit w (bit 0 least significant)
    for w, m in enumerate(matrices):
        if m is not None:
            t = np.moveaxis(np.tensordot(t, m, axes=([1 + n - 1 - w], [0])), -1, 1 + n - 1 - w)
    return t.reshape(b, -1)


# --- exact measurement noise ----------------------------------------------------------------------

def _measurement_noise(noise_model, qubits: Sequence[int]):
    """The noise model's error channels on ``measure`` and readout matrices, for ``qubits``.

    Returns ``({qubit: QuantumError}, [2x2 matrix or None per qubit])``; the readout matrix
    is ``P(measured | prepared)`` with rows the prepared state, as Aer's ``ReadoutError``.
    """
    from qiskit_aer.noise import QuantumError

    quantum, readout = {}, {}
    default_quantum, default_readout = None, None
    if noise_model is None:
        return {}, [None] * len(qubits)
    for entry in noise_model.to_dict()["errors"]:
        targets = entry.get("gate_qubits")
        if entry["type"] == "qerror" and "measure" in entry["operations"]:
            if targets is None:
                default_quantum = entry
            for qs in targets or ():
                if len(qs) != 1:
                    raise NotImplementedError("exact expectations need single-qubit measure errors")
                quantum[qs[0]] = entry
        elif entry["type"] == "roerror":
            if targets is None:
                default_readout = entry
            for qs in targets or ():
                if len(qs) != 1:
                    raise NotImplementedError("exact expectations need single-qubit readout errors "
                                              "(correlated readout errors are not supported)")
                readout[qs[0]] = entry
    errors = {}
    for q in qubits:
        entry = quantum.get(q, default_quantum)
        if entry is not None:
            errors[q] = QuantumError.from_dict({**entry, "operations": []})
    matrices = []
    for q in qubits:
        entry = readout.get(q, default_readout)
        matrix = None if entry is None else np.asarray(entry["probabilities"], dtype=float)
        if matrix is not None and matrix.shape != (2, 2):
            raise NotImplementedError("exact expectations need single-qubit readout errors "
                                      "(correlated readout errors are not supported)")
        matrices.append(matrix)
    return errors, matrices


def _apply_readout(z: np.ndarray, matrices) -> np.ndarray:
    """Exact ``<Z>`` after readout error: ``P(m) = sum_s P(s) P(m|s)`` on each wire."""
    z = z.copy()
    for w, m in enumerate(matrices):
        if m is None:
            continue
        p0, p1 = (1 + z[:, w]) / 2, (1 - z[:, w]) / 2
        z[:, w] = p0 * (m[0, 0] - m[0, 1]) + p1 * (m[1, 0] - m[1, 1])
    return z


# --- QNNs -----------------------------------------------------------------------------------------

def qnn_expectations(model, x, device, **options) -> torch.Tensor:
    """A :class:`qml.model.QNN`'s ``<Z>`` per wire on ``device``, ``(batch, n_wires)``.

    The encoder's features of the raw samples ``x`` and the model's trained weights are
    bound to ``model.template`` (encoder + ansatz); ``options`` are those of
    :func:`expectations` (``shots``, ``seed``, ``mapping``, ``noise``, ``method``, ...).
    """
    template = getattr(model, "template", None)
    if not isinstance(template, Circuit) or not hasattr(model, "encoder"):
        raise ValueError(f"expected a qml.model.QNN (one encoder + ansatz circuit), got "
                         f"{type(model).__name__}; run a MultiNodeQNN node by node")
    x = torch.as_tensor(x)
    if x.dim() == 1:
        x = x.reshape(1, -1)
    with torch.no_grad():
        features = model.encoder.features(x.to(model.weights.dtype))
        weights = model.weights.detach().cpu().double()
    params = dict(zip(model.names, weights.tolist()))
    return expectations(template, device, params, features, **options)


def qnn_accuracy(model, x, y, device, **options) -> float:
    """Accuracy of a QNN on ``device``: ``<Z>`` there, the model's readout, argmax against ``y``.

    Like :func:`qml.train.evaluate` (log-softmax is monotone, so the argmax of the readout's
    scores is the predicted class); ``options`` as for :func:`expectations`.
    """
    if getattr(model, "readout", None) is None:
        raise ValueError("the model has no readout (a node feeding another node): it predicts no class")
    y = torch.as_tensor(y).reshape(-1)
    z = qnn_expectations(model, x, device, **options)
    if len(y) != len(z):
        raise ValueError(f"x has {len(z)} samples but y has {len(y)} labels")
    with torch.no_grad():
        scores = model.readout(z.to(model.weights.dtype))
    return float((scores.argmax(1) == y.to(scores.device)).double().mean())
