"""A circuit as it runs on a device, for our own engine: transpiled, on compact wires, with
the device's noise as data the engine applies.

:func:`noisy_program` transpiles a :class:`qml.Circuit` for a device (the same transpilation
:mod:`noise.aer` runs, so both see one circuit), imports it back with its parameters still
symbolic, renumbers the physical qubits it touches as wires ``0..m-1``, and attaches to
every noisy gate its channel (a superoperator, for the exact density-matrix mode) and its
Pauli-twirled error probabilities (for noise injection), plus the readout error of the
qubit where each logical wire ends. Two ways to run it:

- :func:`density_expectations`: exact noisy ``<Z>`` per logical wire by the density-matrix
  mode (no shots; agrees with Aer's ``density_matrix`` method to rounding);
- :func:`injected_expectations`: Pauli errors drawn per sample (scaled by a factor ``T``),
  applied by the statevector engine, and the readout error applied to the expectation
  values of the logical wires' final qubits (QuantumNAT's noise injection).

Example:
    >>> import torch, qml
    >>> from noise.devices import Device
    >>> from noise.program import noisy_program, density_expectations
    >>> device = Device.from_name("santiago")
    >>> c = qml.Circuit(2).ry(0, qml.Input(0)).cx(0, 1)
    >>> p = noisy_program(c, device, mapping=[1, 2])
    >>> p.qubits, p.measured, len(p.channels) > 0
    ((1, 2), (0, 1), True)
    >>> z = density_expectations(c, device, inputs=torch.tensor([[0.0]]), mapping=[1, 2])
    >>> bool((z > 0.9).all() and (z < 1).all())                # |00>, a little noise
    True
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from qml.circuit import Circuit
from qml.sim.density import Channel, density_expval
from qml.sim.errors import PauliSampler
from qml.sim.measurement import expval_z
from qml.sim.engine import simulate

#: Programs kept, least recently used dropped first (as noise.aer keeps its transpilations).
PROGRAMS_KEPT = 256
_programs: OrderedDict = OrderedDict()      # (transpiled, device) ids -> (transpiled, device, program)
_channels: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # device -> its DeviceChannels


@dataclass(frozen=True, eq=False)
class NoisyProgram:
    """A transpiled circuit on compact wires with its noise as engine data.

    Attributes:
        circuit: the transpiled circuit on wires ``0..m-1`` (parameters symbolic).
        qubits: wire -> physical qubit.
        measured: logical wire -> the wire holding its state at the end.
        channels: the superoperator after each noisy op (``qml.sim.density.Channel``).
        sites: ``(op index, wires)`` of every noisy op, for Pauli error injection.
        pauli_probs: the Pauli-twirled error probabilities of each site.
        readout: ``(P(1|0), P(0|1))`` of each logical wire's final qubit.
    """

    circuit: Circuit
    qubits: tuple[int, ...]
    measured: tuple[int, ...]
    channels: tuple[Channel, ...]
    sites: tuple[tuple[int, tuple[int, ...]], ...]
    pauli_probs: tuple[np.ndarray, ...]
    readout: tuple[tuple[float, float], ...]
    depth: int
    count_ops: dict
    samplers: dict = field(default_factory=dict, repr=False)   # T -> PauliSampler


def noisy_program(circuit: Circuit, device, mapping: Sequence[int] | None = None, seed: int = 0,
                  optimization_level: int = 1) -> NoisyProgram:
    """``circuit`` on ``device`` (logical wire ``w`` on physical qubit ``mapping[w]``), cached."""
    from noise.aer import transpile_for

    transpiled = transpile_for(circuit, device, mapping, seed=seed, optimization_level=optimization_level)
    key = (id(transpiled), id(device))
    if key in _programs and _programs[key][0] is transpiled and _programs[key][1] is device:
        _programs.move_to_end(key)
        return _programs[key][2]
    qubits = tuple(transpiled.qubits)
    wire_of = {q: j for j, q in enumerate(qubits)}
    physical = Circuit.from_qiskit(transpiled.circuit)
    compact = physical.relabel({q: wire_of[q] for q in qubits}, n_wires=len(qubits)) if qubits else physical
    noise = _channels_of(device)
    channels, sites, probs = [], [], []
    for i, op in enumerate(compact.ops):
        if op.is_directive:
            continue
        on = tuple(qubits[w] for w in op.wires)
        superop = noise.superop(op.name, on)
        if superop is None:
            continue
        channels.append(Channel(i, op.wires, superop))
        sites.append((i, op.wires))
        probs.append(noise.pauli_probs(op.name, on))
    measured = tuple(wire_of[q] for q in transpiled.final)
    readout = tuple(noise.readout(q) for q in transpiled.final)
    compact.barrier()                  # the measurement: its channels (relaxation) act after this
    for q, w in zip(transpiled.final, measured):
        superop = noise.superop("measure", (q,))
        if superop is not None:
            channels.append(Channel(len(compact.ops) - 1, (w,), superop))
            sites.append((len(compact.ops) - 1, (w,)))
            probs.append(noise.pauli_probs("measure", (q,)))
    program = NoisyProgram(compact, qubits, measured, tuple(channels), tuple(sites), tuple(probs), readout,
                           transpiled.depth, dict(transpiled.count_ops))
    _programs[key] = (transpiled, device, program)
    if len(_programs) > PROGRAMS_KEPT:
        _programs.popitem(last=False)
    return program


def _channels_of(device):
    from noise.channels import DeviceChannels

    if device not in _channels:
        _channels[device] = DeviceChannels(device)
    return _channels[device]


def density_expectations(circuit: Circuit, device, params=None, inputs=None, *,
                         mapping: Sequence[int] | None = None, seed: int = 0,
                         dtype: torch.dtype = torch.complex64) -> torch.Tensor:
    """Exact noisy ``<Z>`` per logical wire ``(batch, n_wires)`` on ``device``, by the
    density-matrix mode: gate errors as channels, readout error on the measured qubits.
    Differentiable in ``params``."""
    program = noisy_program(circuit, device, mapping, seed)
    m = program.circuit.n_wires
    bits = (torch.arange(2 ** m).unsqueeze(0) >> torch.tensor([[m - 1 - w] for w in program.measured])) & 1
    observables = torch.stack([(1 - p10 - p01) * (1 - 2 * b) + (p01 - p10)       # Z as read out
                               for b, (p10, p01) in zip(bits.double(), program.readout)])
    return density_expval(program.circuit, observables, _params_for(program, circuit, params), inputs,
                          channels=program.channels, dtype=dtype)


def injected_expectations(circuit: Circuit, device, params=None, inputs=None, *, batch: int | None = None,
                          T: float = 1.0, mapping: Sequence[int] | None = None, seed: int = 0,
                          generator: torch.Generator | None = None, readout: bool = True,
                          gradient: str = "autograd", dtype: torch.dtype = torch.complex64) -> torch.Tensor:
    """``<Z>`` per logical wire with Pauli errors drawn per sample at every noisy gate (each
    error probability times ``T``), and the readout error (times ``T``) applied to the
    expectation values of the logical wires' final qubits: ``<Z> -> (1 - p10 - p01) <Z> + p01 - p10``.
    ``batch`` is needed when neither inputs nor per-sample params give it."""
    program = noisy_program(circuit, device, mapping)
    if not isinstance(T, (int, float)) or isinstance(T, bool) or T < 0:
        raise ValueError(f"the noise factor T must be a number >= 0, got {T!r}")
    if batch is None:
        batch = len(inputs) if inputs is not None else params.shape[0] if torch.is_tensor(params) and \
            params.dim() == 2 else 1
    errors = _sampler(program, float(T)).sample(batch, seed, generator) if program.sites and T else None
    states = simulate(program.circuit, _params_for(program, circuit, params), inputs, errors=errors,
                      gradient=gradient, dtype=dtype)
    z = expval_z(states)[:, list(program.measured)]
    if readout:
        p10 = torch.tensor([T * r[0] for r in program.readout], dtype=z.dtype)
        p01 = torch.tensor([T * r[1] for r in program.readout], dtype=z.dtype)
        if (p10 + p01 > 1).any():
            raise ValueError(f"T = {T} makes a readout error probability exceed 1")
        z = (1 - p10 - p01) * z + (p01 - p10)
    return z


def _sampler(program: NoisyProgram, T: float) -> PauliSampler:
    samplers = program.samplers
    if T not in samplers:
        samplers[T] = PauliSampler(program.sites, [scale_pauli_probs(p, T) for p in program.pauli_probs])
    return samplers[T]


def scale_pauli_probs(probs: np.ndarray, T: float) -> np.ndarray:
    """Every error probability times ``T`` (the identity takes the rest)."""
    out = np.asarray(probs, dtype=np.float64) * T
    error = out[1:].sum()
    if error > 1:
        raise ValueError(f"T = {T} makes an error probability exceed 1 ({error:.3g})")
    out[0] = 1 - error
    return out


def _params_for(program: NoisyProgram, circuit: Circuit, params):
    """The transpiled circuit's parameters (a subset of the logical circuit's, in its own order)."""
    names = program.circuit.parameters
    if params is None or not names:
        return None
    if isinstance(params, dict):
        return {n: params[n] for n in names}
    params = torch.as_tensor(params)
    order = circuit.parameters
    index = torch.tensor([order.index(n) for n in names])
    return params.index_select(-1, index)
