"""RobustState: variational state preparation trained with the device in the loop.

A parameterized circuit (by default a U3CU3 ansatz) is trained to prepare a target state. Three
ways to train it (:func:`train_state`):

- ``"noise-free"``: maximize the fidelity ``|<target|psi(theta)>|^2`` in our statevector simulator;
- ``"noise-aware"``: maximize the exact fidelity ``<target|rho(theta)|target>`` of the noisy state,
  ``rho`` from our density-matrix mode with the device's noise model (:mod:`noise.program`);
- ``"device"`` (RobustState): the forward pass measures the prepared state on the device (Aer
  with shots) in a set of Pauli measurement bases (a U3 on every wire before the measurement,
  the bases bound as inputs of one transpiled circuit, one Aer job per step). The loss is
  ``L = -(2 F + P)``, ``F`` and ``P`` the fidelity with the target and the purity estimated from
  the measured outcome distributions ``p`` (``F = mean_b p_b . K q_b``, ``P = mean_b p_b . K p_b``,
  see :func:`shot_fidelity`), i.e. ``-||rho + |target><target| ||^2`` up to a constant: the loss
  and its derivative ``dL/dp = -2 K (q + p)`` come from the device's outcomes; the Jacobian of the
  distributions with respect to the angles comes from back-propagation through our (noise-free)
  simulator. The device's noise thus enters every gradient. (Under Pauli noise, at the noise-free
  optimum this is the direction of the noisy fidelity's gradient; the plain squared distance
  ``sum (p - q)^2`` points the opposite way there.) The device-independent part ``-4 K q`` is
  summed over all bases in the simulator (the exact ideal-fidelity gradient), the device's part
  over the bases measured in the step: the same mean, less variance. The readout error is
  mitigated with the device's calibrated per-qubit confusion matrices (``mitigate=True``), so that
  the training does not bend the state to pre-compensate errors of the measurement.

Fidelity of a prepared state: :func:`noisy_fidelity` (exact, density-matrix mode with the
device's gate noise; the state before the measurement) and :func:`shot_fidelity` (from the
outcomes in all ``3**n`` Pauli bases, measured on the device with shots: the linear-inversion
estimate ``mean_b p_b . (K (x) ... (x) K) q_b`` with ``K = [[2, -1], [-1, 2]]``).

Example:
    >>> import torch
    >>> psi = target_state("ghz", 3)
    >>> [round(abs(a) ** 2, 3) for a in psi[[0, 7]].tolist()]
    [0.5, 0.5]
    >>> q = target_distributions(psi, all_bases(3))
    >>> round(float(shot_fidelity(q, q, 3)), 6)                  # the target against itself
    1.0
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from qml.circuit import Circuit, Input
from qml.files import atomic_save, load_checkpoint
from qml.sim import probabilities, simulate, simulate_density

TARGETS = ("ghz", "w", "qft", "random")
MODES = ("noise-free", "noise-aware", "device")
#: u3 angles that rotate the measurement into each basis: Z (none), X (H), Y (H S-dagger).
BASIS_ANGLES = {"Z": (0.0, 0.0, 0.0), "X": (math.pi / 2, 0.0, math.pi), "Y": (math.pi / 2, 0.0, math.pi / 2)}
KIND = "qml-bench robust-state checkpoint"
_REQUIRED = ("params", "optimizer", "step", "history", "identity", "best_params", "best")


# --- targets -------------------------------------------------------------------------------------

def target_state(name: str, n_qubits: int, seed: int = 0) -> torch.Tensor:
    """A target state ``(2**n,)`` complex128 (wire 0 the most significant bit).

    ``"ghz"``: (|0...0> + |1...1>)/sqrt2; ``"w"``: the equal superposition of the one-hot
    states; ``"qft"``: the quantum Fourier transform of the basis state |1> (equal magnitudes,
    phases ``2 pi k / 2**n``); ``"random"``: a Haar-random state drawn with ``seed``.
    """
    if isinstance(n_qubits, bool) or not isinstance(n_qubits, int) or n_qubits < 1:
        raise ValueError(f"n_qubits must be a positive integer, got {n_qubits!r}")
    dim = 2 ** n_qubits
    state = torch.zeros(dim, dtype=torch.complex128)
    if name == "ghz":
        state[0] = state[-1] = 1
    elif name == "w":
        state[[1 << k for k in range(n_qubits)]] = 1
    elif name == "qft":
        k = torch.arange(dim, dtype=torch.float64)
        state = torch.polar(torch.ones(dim, dtype=torch.float64), 2 * math.pi * k / dim)
    elif name == "random":
        gen = torch.Generator().manual_seed(seed)
        state = torch.complex(torch.randn(dim, generator=gen, dtype=torch.float64),
                              torch.randn(dim, generator=gen, dtype=torch.float64))
    else:
        raise ValueError(f"unknown target {name!r}; targets: {', '.join(TARGETS)}")
    return state / torch.linalg.vector_norm(state)


def check_target(state, n_qubits: int) -> torch.Tensor:
    """``state`` as a complex128 vector of ``2**n_qubits`` amplitudes, checked to have norm 1."""
    state = torch.as_tensor(state)
    if state.dim() != 1 or state.shape[0] != 2 ** n_qubits:
        raise ValueError(f"the target state must be a vector of 2**{n_qubits} = {2 ** n_qubits} amplitudes "
                         f"for {n_qubits} qubits, got shape {tuple(state.shape)}")
    state = state.to(torch.complex128)
    norm = float(torch.linalg.vector_norm(state))
    if not math.isfinite(norm) or abs(norm - 1) > 1e-6:
        raise ValueError(f"the target state is not normalized: its norm is {norm:.6g}, not 1")
    return state


# --- measurement bases -----------------------------------------------------------------------------

def all_bases(n_qubits: int) -> list[str]:
    """Every product Pauli basis, e.g. ``["ZZ", "ZX", ..., "YY"]`` (``3**n``)."""
    return ["".join(b) for b in itertools.product("ZXY", repeat=n_qubits)]


def basis_inputs(bases: Sequence[str]) -> torch.Tensor:
    """The input row ``(3 n,)`` of each basis for :func:`measured_circuit`: ``(len(bases), 3 n)``."""
    rows = []
    for basis in bases:
        if set(basis) - set(BASIS_ANGLES):
            raise ValueError(f"a measurement basis is a string of Z, X and Y, got {basis!r}")
        rows.append([a for b in basis for a in BASIS_ANGLES[b]])
    return torch.tensor(rows, dtype=torch.float64)


def measured_circuit(circuit: Circuit) -> Circuit:
    """``circuit`` then a U3 on every wire whose angles are inputs ``3w, 3w+1, 3w+2`` (the basis)."""
    if circuit.n_inputs:
        raise ValueError("the state-preparation circuit must not read input features")
    out = circuit + Circuit(circuit.n_wires)
    for w in range(circuit.n_wires):
        out.u3(w, Input(3 * w), Input(3 * w + 1), Input(3 * w + 2))
    return out


def target_distributions(target: torch.Tensor, bases: Sequence[str]) -> torch.Tensor:
    """Outcome distributions ``(len(bases), 2**n)`` of the target measured in ``bases``."""
    n = int(math.log2(target.shape[0]))
    target = check_target(target, n)
    rotation = measured_circuit(Circuit(n))
    states = simulate(rotation, inputs=basis_inputs(bases), initial_state=target.expand(len(bases), -1),
                      dtype=torch.complex128)
    return probabilities(states)


def mitigate_readout(p: torch.Tensor, readout: Sequence[tuple[float, float]]) -> torch.Tensor:
    """Undo independent readout errors ``(P(1|0), P(0|1))`` per wire: apply each wire's inverse
    confusion matrix to the distributions ``(batch, 2**n)`` (the result may leave the simplex)."""
    n = len(readout)
    t = p.reshape(-1, *[2] * n)
    for w, (p10, p01) in enumerate(readout):
        confusion = torch.tensor([[1 - p10, p01], [p10, 1 - p01]], dtype=p.dtype)   # [measured, true]
        t = torch.movedim(torch.tensordot(t, torch.linalg.inv(confusion), dims=([1 + w], [1])), -1, 1 + w)
    return t.reshape(p.shape)


def shot_fidelity(p: torch.Tensor, q: torch.Tensor, n_qubits: int) -> torch.Tensor:
    """Fidelity with the target from outcome distributions in all ``3**n`` Pauli bases:
    ``mean_b p_b . K^{(x)n} q_b``, ``K = [[2, -1], [-1, 2]]`` (the linear-inversion estimate;
    ``q`` the target's distributions in the same bases, :func:`target_distributions`)."""
    k = torch.tensor([[2.0, -1.0], [-1.0, 2.0]], dtype=q.dtype)
    t = q.reshape(-1, *[2] * n_qubits)
    for w in range(n_qubits):
        t = torch.movedim(torch.tensordot(t, k, dims=([1 + w], [1])), -1, 1 + w)
    return (p.to(q.dtype) * t.reshape(q.shape)).sum(1).mean()


# --- fidelities ------------------------------------------------------------------------------------

def ideal_fidelity(circuit: Circuit, params, target: torch.Tensor) -> torch.Tensor:
    """``|<target|psi(params)>|^2`` in the noise-free simulator (differentiable)."""
    psi = simulate(circuit, params, dtype=torch.complex128)[0]
    return (target.conj() @ psi).abs() ** 2


def noisy_state(circuit: Circuit, device, params, mapping: Sequence[int] | None = None) -> torch.Tensor:
    """The prepared state's density matrix ``(2**n, 2**n)`` on ``device`` (logical wire order), by
    our density-matrix mode with the device's gate noise, before the measurement (differentiable)."""
    from noise.program import _params_for, noisy_program

    program = noisy_program(circuit, device, mapping)
    last = len(program.circuit.ops) - 1            # the barrier before the measurement
    channels = [c for c in program.channels if c.after != last]
    rho = simulate_density(program.circuit, _params_for(program, circuit, params), channels=channels,
                           dtype=torch.complex128)[0]
    return reduced_density(rho, program.measured)


def reduced_density(rho: torch.Tensor, keep: Sequence[int]) -> torch.Tensor:
    """The density matrix of wires ``keep`` (in that order), the other wires traced out."""
    m = int(math.log2(rho.shape[-1]))
    letters = "abcdefghijklmnopqrstuvwxyz"
    rows = list(letters[:m])
    cols = [letters[m + w] if w in keep else rows[w] for w in range(m)]
    out = "".join(rows[w] for w in keep) + "".join(cols[w] for w in keep)
    d = 2 ** len(keep)
    return torch.einsum(f"{''.join(rows)}{''.join(cols)}->{out}", rho.reshape([2] * (2 * m))).reshape(d, d)


def noisy_fidelity(circuit: Circuit, device, params, target: torch.Tensor,
                   mapping: Sequence[int] | None = None) -> torch.Tensor:
    """``<target|rho|target>`` for the state prepared on ``device`` (:func:`noisy_state`)."""
    rho = noisy_state(circuit, device, params, mapping)
    return (target.conj() @ rho @ target).real


def device_distributions(circuit: Circuit, device, params, bases: Sequence[str], *, shots: int, seed: int,
                         mapping: Sequence[int] | None = None, mitigate: bool = True,
                         threads: int = 1) -> torch.Tensor:
    """Outcome frequencies ``(len(bases), 2**n)`` measured on ``device`` (Aer, ``shots`` per basis,
    one job), readout-mitigated with the device's calibration when ``mitigate``."""
    from noise.aer import distributions
    from noise.program import noisy_program

    measured = measured_circuit(circuit)
    p = distributions(measured, device, torch.as_tensor(params).detach().double(), basis_inputs(bases),
                      shots=shots, seed=seed, mapping=mapping, sampling="probabilities", threads=threads,
                      chunk_size=max(len(bases), 1), progress=False)
    if mitigate:
        p = mitigate_readout(p, noisy_program(measured, device, mapping).readout)
    return p


# --- training ------------------------------------------------------------------------------------

@dataclass
class StateConfig:
    """Settings of one training run (:func:`train_state`)."""

    steps: int = 200
    lr: float = 0.05
    shots: int = 1024
    bases_per_step: int = 27          # Pauli bases measured per device step (drawn at random)
    mitigate: bool = True
    seed: int = 0

    def __post_init__(self):
        for name in ("steps", "shots", "bases_per_step"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")


def train_state(circuit: Circuit, target, mode: str, device=None, config: StateConfig = StateConfig(), *,
                init=None, mapping: Sequence[int] | None = None, out_dir=None, resume: bool = False,
                progress: bool = True, threads: int = 1) -> dict:
    """Train ``circuit``'s angles to prepare ``target`` (``mode`` one of :data:`MODES`).

    ``init``: starting angles (default: uniform in [-pi, pi) from ``config.seed``). Adam with
    ``config.lr``. ``"device"`` steps measure ``config.bases_per_step`` Pauli bases drawn at
    random each step (``config.shots`` shots each); the returned ``params`` are those of the step
    with the best fidelity estimated from the device's own outcomes (``device_fidelity`` in the
    history), the fidelity a user of the chip can see. With ``out_dir`` a checkpoint is written
    every 10 steps and at the end; ``resume`` continues it (a different run's checkpoint is
    refused). Returns ``{"params", "history", "steps", "wall_s"}``.
    """
    if mode not in MODES:
        raise ValueError(f"unknown training mode {mode!r}; modes: {', '.join(MODES)}")
    n = circuit.n_wires
    target = check_target(target, n)
    if mode != "noise-free" and device is None:
        raise ValueError(f"mode {mode!r} needs a device")
    names = circuit.parameters
    gen = torch.Generator().manual_seed(config.seed)
    start = torch.rand(len(names), generator=gen, dtype=torch.float64) * 2 * math.pi - math.pi
    if init is not None:
        start = torch.as_tensor(init, dtype=torch.float64).detach().clone().reshape(-1)
        if start.numel() != len(names):
            raise ValueError(f"init must hold the circuit's {len(names)} angles, got {start.numel()}")
    params = start.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([params], lr=config.lr)
    identity = {"mode": mode, "n_wires": n, "circuit": circuit.to_json(), "device": getattr(device, "name", None),
                "target": [[float(a.real), float(a.imag)] for a in target.tolist()],
                "init": start.tolist(), **asdict(config)}
    step, history, best, best_params, wall_before = 0, [], -math.inf, start.clone(), 0.0
    path = None if out_dir is None else Path(out_dir) / "last.pt"
    if resume:
        if path is None or not path.exists():
            raise ValueError(f"cannot resume: no checkpoint at {path}")
        ckpt = load_checkpoint(path, kind=KIND, required=_REQUIRED)
        if ckpt["identity"] != identity:
            diff = sorted(k for k in identity if ckpt["identity"].get(k) != identity[k])
            raise ValueError(f"cannot resume: the checkpoint {path} is of a different run (differs in {diff})")
        with torch.no_grad():
            params.copy_(ckpt["params"])
        optimizer.load_state_dict(ckpt["optimizer"])
        step, history, best = ckpt["step"], ckpt["history"], ckpt["best"]
        best_params, wall_before = ckpt["best_params"], ckpt.get("wall_s", 0.0)
    q_all = target_distributions(target, all_bases(n)) if mode == "device" else None
    bases = all_bases(n)
    measured = measured_circuit(circuit) if mode == "device" else None
    from tqdm import tqdm

    bar = tqdm(total=config.steps, initial=step, unit="step", desc=f"{mode} state", disable=not progress,
               leave=False)
    began = time.perf_counter()

    def save():
        if path is not None:
            atomic_save({"params": params.detach().clone(), "optimizer": optimizer.state_dict(), "step": step,
                         "history": history, "identity": identity, "best": best, "best_params": best_params,
                         "wall_s": wall_before + time.perf_counter() - began}, path)

    while step < config.steps:
        record = {"step": step + 1}
        if mode == "noise-free":
            fidelity = ideal_fidelity(circuit, params, target)
            loss = 1 - fidelity
        elif mode == "noise-aware":
            fidelity = noisy_fidelity(circuit, device, params, target, mapping)
            loss = 1 - fidelity
        else:
            draw = torch.Generator().manual_seed(_step_seed(config.seed, step))
            chosen = torch.randperm(len(bases), generator=draw)[:config.bases_per_step].sort().values
            chosen_bases = [bases[i] for i in chosen]
            p_device = device_distributions(circuit, device, params, chosen_bases, shots=config.shots,
                                            seed=_step_seed(config.seed, step), mapping=mapping,
                                            mitigate=config.mitigate, threads=threads)
            q = q_all[chosen]
            states = simulate(measured, params, basis_inputs(chosen_bases), dtype=torch.complex128)
            p_sim = probabilities(states)
            # L = -(2 F + P) from the device's outcomes p: dL/dp = -2 K (q + p). Its Jacobian product,
            # split as -4 K q (device-independent: over all bases, the exact ideal fidelity gradient)
            # - 2 K (p - q) (the device's part, over this step's bases): the same mean, less variance
            loss = -(4 * ideal_fidelity(circuit, params, target)
                     + 2 * shot_fidelity(p_sim, (p_device - q).detach(), n))
            fidelity = shot_fidelity(p_device, q, n)     # estimate over the bases of this step
        optimizer.zero_grad()
        loss.backward()
        record.update(loss=float(loss.detach()), fidelity=float(fidelity.detach()))
        if mode == "device":
            record["device_fidelity"] = record.pop("fidelity")
            record["circuits"] = len(chosen_bases)
        elif record["fidelity"] > best:       # exact fidelities: keep the best angles seen
            best, best_params = record["fidelity"], params.detach().clone()
        optimizer.step()
        step += 1
        history.append(record)
        bar.update(1)
        bar.set_postfix(loss=f"{record['loss']:.4f}")
        if step % 10 == 0 or step == config.steps:
            save()
    bar.close()
    final = params.detach().clone()
    if mode == "device":   # shot estimates are too noisy to pick a step by: the last angles
        best_params = final
    elif float(_fidelity_of(mode, circuit, device, final, target, mapping)) >= best:
        best_params = final
    return {"params": best_params, "last_params": final, "history": history, "steps": step,
            "wall_s": wall_before + time.perf_counter() - began}


def _fidelity_of(mode, circuit, device, params, target, mapping):
    with torch.no_grad():
        if mode == "noise-free":
            return ideal_fidelity(circuit, params, target)
        return noisy_fidelity(circuit, device, params, target, mapping)


def _step_seed(seed: int, step: int) -> int:
    return int(np.random.SeedSequence([int(seed), int(step)]).generate_state(1)[0] >> 1)


__all__ = ["TARGETS", "MODES", "target_state", "check_target", "all_bases", "basis_inputs", "measured_circuit",
           "target_distributions", "mitigate_readout", "shot_fidelity", "ideal_fidelity", "noisy_state",
           "noisy_fidelity", "reduced_density", "device_distributions", "StateConfig", "train_state"]
