"""VQE: minimise a molecule's energy over a circuit's parameters with Adam.

The exact objective is ``qml.expval(qml.simulate(circuit, params), H) + constant``
(differentiated by ``gradient``: the adjoint method by default, autograd, or the
parameter-shift rule). With ``shots``, each energy is instead estimated from seeded samples:
the Pauli terms are measured in qubit-wise commuting groups (one basis rotation and
``shots`` samples per group), and the gradient comes from the parameter-shift rule applied to
such estimates (every occurrence of a parameter shifted by +/- pi/2), as on hardware.

Example:
    >>> from qml.vqe import load_hamiltonian, uccsd, vqe
    >>> h2 = load_hamiltonian("h2")
    >>> r = vqe(uccsd(h2), h2, steps=5, lr=0.1, shots=1000, seed=1, progress=False)
    >>> len(r.energies), sorted(r.params) == sorted(uccsd(h2).parameters)
    (5, True)
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from qml.circuit import Circuit, Param

GRADIENTS = ("adjoint", "autograd", "parameter-shift")
#: Gates exp(-i t/2 P) whose expectations obey the two-term shift rule (used with shots).
_TWO_TERM = ("rx", "ry", "rz", "rxx", "ryy", "rzz", "rzx")


@dataclass
class VQEResult:
    """What :func:`vqe` returns.

    ``energies``: the objective at the start of every step (exact, or the shot estimate);
    ``energy``: the exact energy at the final ``params`` (name -> value);
    ``exact_energy``: the Hamiltonian's exact ground-state energy (None if unknown).
    """

    energies: list[float]
    params: dict[str, float]
    energy: float
    exact_energy: float | None
    steps: int
    wall_s: float
    shots: int | None = None
    history: dict = field(default_factory=dict)

    @property
    def error(self) -> float | None:
        """``energy - exact_energy`` in hartree."""
        return None if self.exact_energy is None else self.energy - self.exact_energy

    def to_dict(self) -> dict:
        return {**asdict(self), "error": self.error}


def energy(circuit: Circuit, hamiltonian, params=None, *, gradient: str = "adjoint",
           dtype: torch.dtype = torch.complex128) -> torch.Tensor:
    """The exact energy ``<psi(params)|H|psi(params)> + constant`` (a 0-d tensor, differentiable)."""
    from qml.sim import expectation

    _check(circuit, hamiltonian)
    if gradient not in GRADIENTS:
        raise ValueError(f"unknown gradient method {gradient!r}; choose one of {GRADIENTS}")
    out = expectation(circuit, hamiltonian.pauli_sum, params, gradient=gradient, dtype=dtype)
    return out[0, 0] + hamiltonian.constant


def _check(circuit: Circuit, hamiltonian) -> None:
    if not isinstance(circuit, Circuit):
        raise ValueError(f"expected a qml.Circuit, got {type(circuit).__name__}")
    if circuit.n_wires != hamiltonian.n_qubits:
        raise ValueError(f"the circuit has {circuit.n_wires} wires, the Hamiltonian "
                         f"{hamiltonian.name!r} acts on {hamiltonian.n_qubits} qubits")


# --- shot-based estimates ------------------------------------------------------------------------

def measurement_groups(hamiltonian) -> tuple[float, list[tuple[str, list[tuple[float, int]]]]]:
    """``(identity coefficient, [(basis, [(coefficient, mask)])])``: qubit-wise commuting groups.

    ``basis`` has one of I/X/Y/Z per wire; ``mask`` marks (bit ``n-1-w`` for wire ``w``) the
    wires whose measured bits enter the term's sign. Greedy: largest terms first.
    """
    n = hamiltonian.n_qubits
    identity = 0.0
    groups: list[tuple[list[str], list[tuple[float, int]]]] = []
    for label, c in sorted(hamiltonian.terms, key=lambda t: -abs(t[1])):
        if set(label) == {"I"}:
            identity += c
            continue
        mask = sum(1 << (n - 1 - w) for w, p in enumerate(label) if p != "I")
        for basis, members in groups:
            if all(p == "I" or b in ("I", p) for p, b in zip(label, basis)):
                for w, p in enumerate(label):
                    if p != "I":
                        basis[w] = p
                members.append((c, mask))
                break
        else:
            groups.append(([p for p in label], [(c, mask)]))
    return identity, [("".join(b), m) for b, m in groups]


def _rotation(basis: str) -> Circuit | None:
    """The circuit that turns a measurement in ``basis`` into one in Z."""
    c = Circuit(len(basis))
    for w, p in enumerate(basis):
        if p == "X":
            c.h(w)
        elif p == "Y":
            c.sdg(w).h(w)
    return c if len(c) else None


def _parity(indices: torch.Tensor, mask: int) -> torch.Tensor:
    v = indices & mask
    parity = torch.zeros_like(v)
    while bool(v.any()):
        parity ^= v & 1
        v = v >> 1
    return parity


def _estimate_states(states: torch.Tensor, hamiltonian, shots: int, seeds: np.random.SeedSequence
                     ) -> torch.Tensor:
    """Shot estimates of the energy of each state of a batch, shape (batch,) float64."""
    from qml.sim import sample, simulate

    identity, groups = hamiltonian._cache.get("groups") or measurement_groups(hamiltonian)
    hamiltonian._cache["groups"] = (identity, groups)
    total = torch.full((states.shape[0],), identity + hamiltonian.constant, dtype=torch.float64)
    for (basis, members), child in zip(groups, seeds.spawn(len(groups))):
        rot = _rotation(basis)
        rotated = states if rot is None else simulate(rot, initial_state=states, dtype=states.dtype)
        idx = sample(rotated, shots, seed=int(child.generate_state(1)[0]))
        for c, mask in members:
            total += c * (1 - 2 * _parity(idx, mask)).to(torch.float64).mean(1)
    return total


def estimate_energy(circuit: Circuit, hamiltonian, params=None, shots: int = 1000, seed: int = 0,
                    dtype: torch.dtype = torch.complex128) -> float:
    """A shot-based estimate of the energy (``shots`` samples per measurement group), seeded."""
    from qml.sim import simulate

    _check(circuit, hamiltonian)
    with torch.no_grad():
        states = simulate(circuit, params, dtype=dtype)
        return float(_estimate_states(states, hamiltonian, shots, np.random.SeedSequence(seed))[0])


def _occurrences(circuit: Circuit) -> tuple[Circuit, list[int]]:
    """The circuit with one parameter per occurrence, and the parameter each occurrence reads."""
    names = circuit.parameters
    ops, sources = [], []
    for op in circuit.ops:
        params = list(op.params)
        for j, p in enumerate(params):
            if isinstance(p, Param):
                if op.name not in _TWO_TERM or op.adjoint:
                    raise ValueError(f"shot-based gradients need rotations exp(-i t/2 P) "
                                     f"({', '.join(_TWO_TERM)}); the circuit has {op.name}")
                params[j] = Param(f"occ{len(sources)}")
                sources.append(names.index(p.name))
        ops.append(replace(op, params=tuple(params)))
    return Circuit(circuit.n_wires, ops, circuit.global_phase), sources


class _ShotObjective:
    """Shot estimate of the energy and its parameter-shift gradient, all states as one batch."""

    def __init__(self, circuit: Circuit, hamiltonian, shots: int, dtype):
        self.occ, self.sources = _occurrences(circuit)
        self.hamiltonian, self.shots, self.dtype = hamiltonian, shots, dtype
        self.n_params = len(circuit.parameters)

    def __call__(self, params: torch.Tensor, seeds: np.random.SeedSequence) -> tuple[float, torch.Tensor]:
        from qml.sim import simulate

        k = len(self.sources)
        base = params.detach()[self.sources] if k else params.detach()[:0]
        shifts = torch.zeros(2 * k + 1, k, dtype=base.dtype)
        shifts[1:k + 1].fill_diagonal_(math.pi / 2)
        shifts[k + 1:].fill_diagonal_(-math.pi / 2)
        values = base + shifts
        with torch.no_grad():
            states = simulate(self.occ, values if k else None, dtype=self.dtype)
            if not k:
                states = states.expand(1, -1)
            e = _estimate_states(states, self.hamiltonian, self.shots, seeds)
        per_occurrence = 0.5 * (e[1:k + 1] - e[k + 1:])
        grad = torch.zeros(self.n_params, dtype=torch.float64)
        grad.index_add_(0, torch.tensor(self.sources, dtype=torch.long), per_occurrence)
        return float(e[0]), grad


# --- the loop --------------------------------------------------------------------------------------

def _initial(circuit: Circuit, init, seed: int) -> torch.Tensor:
    names = circuit.parameters
    if isinstance(init, str):
        if init == "zeros":
            return torch.zeros(len(names), dtype=torch.float64)
        if init == "random":
            gen = torch.Generator().manual_seed(seed)
            return 0.1 * torch.randn(len(names), generator=gen, dtype=torch.float64)
        raise ValueError(f"init must be 'zeros', 'random', a sequence or a dict; got {init!r}")
    if isinstance(init, dict):
        missing = [n for n in names if n not in init]
        if missing:
            raise ValueError(f"init lacks parameter(s) {', '.join(missing[:5])}")
        return torch.tensor([float(init[n]) for n in names], dtype=torch.float64)
    values = torch.as_tensor(init, dtype=torch.float64).reshape(-1).clone()
    if len(values) != len(names):
        raise ValueError(f"expected {len(names)} initial values, got {len(values)}")
    return values


def vqe(circuit: Circuit, hamiltonian, steps: int = 100, lr: float = 0.05, seed: int = 0,
        shots: int | None = None, gradient: str = "adjoint", *, init="zeros",
        schedule: str = "constant", dtype: torch.dtype = torch.complex128, progress: bool = True,
        checkpoint: str | os.PathLike | None = None, resume: bool = False,
        checkpoint_every: int = 10, callback: Callable[[int, float], None] | None = None) -> VQEResult:
    """Minimise the energy of ``hamiltonian`` over ``circuit``'s parameters with Adam.

    ``steps`` Adam steps at learning rate ``lr`` (``schedule="cosine"`` decays it to zero).
    ``shots=None``: the exact energy, differentiated by ``gradient`` ("adjoint", "autograd" or
    "parameter-shift"); ``shots=N``: seeded estimates from ``N`` samples per measurement group
    and parameter-shift gradients from such estimates (``gradient`` is then ignored).
    ``init``: "zeros" (UCCSD starts at Hartree-Fock), "random" (normal, sd 0.1, from ``seed``),
    or values. ``checkpoint``: a file written atomically every ``checkpoint_every`` steps and at
    the end (``torch.save`` of tensors and plain data); ``resume=True`` continues from it and
    refuses a checkpoint of a different run. ``callback(step, energy)`` after each step.
    """
    _check(circuit, hamiltonian)
    if gradient not in GRADIENTS:
        raise ValueError(f"unknown gradient method {gradient!r}; choose one of {GRADIENTS}")
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    if shots is not None and (not isinstance(shots, int) or shots < 1):
        raise ValueError(f"shots must be a positive integer or None, got {shots!r}")
    if schedule not in ("constant", "cosine"):
        raise ValueError(f"schedule must be 'constant' or 'cosine', got {schedule!r}")
    if not circuit.parameters:
        raise ValueError("the circuit has no trainable parameters")
    start = time.perf_counter()
    params = _initial(circuit, init, seed).requires_grad_(True)
    optimizer = torch.optim.Adam([params], lr=lr)
    factor = (lambda s: 0.5 * (1 + math.cos(math.pi * s / steps))) if schedule == "cosine" \
        else (lambda s: 1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    identity = {"molecule": hamiltonian.name, "n_qubits": hamiltonian.n_qubits,
                "parameters": list(circuit.parameters), "lr": lr, "seed": seed, "shots": shots,
                "gradient": gradient, "schedule": schedule, "steps": steps}
    energies: list[float] = []
    step, elapsed = 0, 0.0
    path = None if checkpoint is None else Path(checkpoint)
    if resume and path is not None and path.exists():
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        mismatch = sorted(k for k in set(ckpt["identity"]) | set(identity)
                          if ckpt["identity"].get(k) != identity.get(k))
        if mismatch:
            raise ValueError(f"cannot resume from {path}: it is of a different run ("
                             + ", ".join(f"{k}: {ckpt['identity'].get(k)!r} there, "
                                         f"{identity.get(k)!r} here" for k in mismatch) + ")")
        with torch.no_grad():
            params.copy_(ckpt["params"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        energies, step, elapsed = list(ckpt["energies"]), int(ckpt["step"]), float(ckpt["wall_s"])

    def save():
        if path is None:
            return
        from qml.files import atomic_path

        state = {"params": params.detach().clone(), "optimizer": optimizer.state_dict(),
                 "scheduler": scheduler.state_dict(), "energies": energies, "step": step,
                 "identity": identity, "wall_s": elapsed + time.perf_counter() - start}
        with atomic_path(path) as tmp:
            torch.save(state, tmp)

    shot_objective = None if shots is None else _ShotObjective(circuit, hamiltonian, shots, dtype)
    from tqdm import tqdm

    bar = tqdm(total=steps, initial=step, unit="step", desc=f"vqe {hamiltonian.name}",
               disable=not progress, leave=False)
    exact = hamiltonian.exact_energy
    while step < steps:
        optimizer.zero_grad()
        if shot_objective is None:
            e = energy(circuit, hamiltonian, params, gradient=gradient, dtype=dtype)
            e.backward()
            value = float(e.detach())
        else:
            value, grad = shot_objective(params, np.random.SeedSequence([seed, step]))
            params.grad = grad.to(params.dtype)
        optimizer.step()
        scheduler.step()
        energies.append(value)
        step += 1
        bar.update(1)
        bar.set_postfix(E=f"{value:.6f}", **({"err_mHa": f"{1e3 * (value - exact):.3f}"}
                                              if exact is not None else {}))
        if callback:
            callback(step, value)
        if step % checkpoint_every == 0 or step == steps:
            save()
    bar.close()
    with torch.no_grad():
        final = float(energy(circuit, hamiltonian, params.detach(), gradient="autograd", dtype=dtype))
    values = params.detach().tolist()
    return VQEResult(energies=energies, params=dict(zip(circuit.parameters, values)), energy=final,
                     exact_energy=exact, steps=step, wall_s=elapsed + time.perf_counter() - start,
                     shots=shots)
