"""QuantumSEA: in-time sparse exploration of a dense design space at a fixed gate budget.

A :class:`SparseQNN` wraps a :class:`qml.model.QNN` over a dense design space (say ``u3cu3``
with B blocks) and a *gate* mask: a gate is one trainable op with all its angles (a U3 or a CU3
with its three), and exactly ``budget = max(1, round(density * n_gates))`` gates are active at
any time. An inactive gate's angles are multiplied by 0 in the forward pass, which makes it the
identity (U3(0, 0, 0) = CU3(0, 0, 0) = I, and every one-angle rotation at 0); gates without
trainable angles are always kept and do not count. The initial active set is a seeded random
choice.

Training is the ordinary :class:`qml.train.Trainer` loop: the model records, at each backward
pass, the gradient of the loss with respect to the *effective* angles (``weights * mask``).
For an inactive gate that is the gradient of growing it from 0, so it is available for every
gate although only the active ones train. Per gate (summed over its angles):

- saliency ``sum |wrap(theta)| * |grad|`` (the last step's gradient; wrap into (-pi, pi]),
- an exponential moving average of ``|grad|`` (``ema`` the decay, updated every step).

Every ``every`` steps (before the forward pass of the next step), while the step is below
``stop * total_steps``, ``n_swap`` active gates of least saliency are pruned and the same
number of previously inactive gates with the largest average gradient are grown (ties: the
lower gate index first); a grown gate starts at angle 0 (the identity, so growing changes
nothing until it trains) and, when an optimizer is attached, with fresh Adam moments.
``n_swap = round(swap_frac * budget * (1 + cos(pi * step / (stop * total_steps))) / 2)``,
capped by ``min(budget, n_gates - budget)``: a cosine decay to no swaps. The budget never
changes.

The mask, the averages, the last gradients and the step count are buffers: they are in
``state_dict``, hence in the Trainer's checkpoints, and a resumed run ends like an uninterrupted
one. :meth:`SparseQNN.ansatz` exports the sparse circuit with the inactive gates removed
(:func:`qml.nas.prune.export_pruned`, the pruning export).

Noise enters through a scorer passed in by the caller (the ``qml-bench sea`` CLI evaluates the
trained circuit with ``noise.scorers``' density-matrix scorer); training itself is noise-free.

Example:
    >>> from qml.layers import build_space
    >>> from qml.model import QNN
    >>> qnn = QNN(4, "4x4_ryzxy", build_space("u3cu3", 4, 2), n_classes=4, seed=0)
    >>> m = SparseQNN(qnn, density=0.5, every=2, total_steps=10, seed=0)
    >>> m.n_gates, m.budget, int(m.gate_mask.sum())
    (16, 8, 8)
    >>> len(m.ansatz().gates), len(m.ansatz().parameters)
    (8, 24)
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from qml.circuit import Circuit, Param, symbols
from qml.model import QNN
from qml.nas.prune import export_pruned, wrap


def check_density(density) -> float:
    """``density`` as a float in (0, 1], else a ValueError naming it."""
    if isinstance(density, bool) or not isinstance(density, (int, float)) or not 0 < density <= 1:
        raise ValueError(f"the density (the fraction of the design space's gates kept active) must be "
                         f"in (0, 1], got {density!r}")
    return float(density)


def check_every(every) -> int:
    """``every`` (steps between swaps) as a positive int, else a ValueError naming it."""
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"the swap interval k (prune and grow every k steps) must be a positive "
                         f"integer, got {every!r}")
    return every


def gate_angles(circuit: Circuit, names: Sequence[str]) -> list[tuple[int, ...]]:
    """For each trainable op of ``circuit`` (in order), the indices in ``names`` of its angles."""
    index = {n: i for i, n in enumerate(names)}
    gates = []
    for op in circuit.ops:
        idx = tuple(index[s.name] for p in op.params for s in symbols(p) if isinstance(s, Param))
        if idx:
            gates.append(idx)
    return gates


class SparseQNN(nn.Module):
    """A QNN over a dense design space with ``budget`` active gates, swapped in training.

    Args:
        qnn: the dense model (its ansatz the design space).
        density: fraction of the trainable gates kept active, in (0, 1].
        every: swap every ``every`` training steps (k >= 1).
        swap_frac: gates swapped at the first swap, as a fraction of the budget (cosine decay).
        total_steps: training steps of the whole run (the decay's length); ``None`` or
            ``swap_frac=0``: no swaps (a fixed mask).
        stop: fraction of ``total_steps`` after which the mask is frozen.
        ema: decay of the moving average of gradients, in [0, 1).
        seed: seed of the initial active set.
        mask: an explicit initial gate mask (``budget`` ones) instead of the random one.
    """

    def __init__(self, qnn: QNN, density: float, every: int = 10, *, swap_frac: float = 0.3,
                 total_steps: int | None = None, stop: float = 0.75, ema: float = 0.9,
                 seed: int = 0, mask: Sequence[int] | None = None):
        super().__init__()
        density, every = check_density(density), check_every(every)
        if not 0 <= swap_frac <= 1:
            raise ValueError(f"swap_frac (the fraction of the budget swapped at first) must be in [0, 1], "
                             f"got {swap_frac!r}")
        if not 0 < stop <= 1:
            raise ValueError(f"stop (the fraction of training after which the mask is frozen) must be "
                             f"in (0, 1], got {stop!r}")
        if not 0 <= ema < 1:
            raise ValueError(f"ema (the decay of the gradient average) must be in [0, 1), got {ema!r}")
        if total_steps is not None and (isinstance(total_steps, bool) or total_steps < 1):
            raise ValueError(f"total_steps must be a positive integer, got {total_steps!r}")
        self.qnn = qnn
        self.gates = gate_angles(qnn.ansatz, qnn.names)
        if not self.gates:
            raise ValueError("the ansatz has no trainable gates to make sparse")
        self.n_gates = len(self.gates)
        self.budget = max(1, round(density * self.n_gates))
        self.density, self.every, self.swap_frac = density, every, swap_frac
        self.total_steps, self.stop, self.decay = total_steps, stop, ema
        angle_gate = torch.full((len(qnn.names),), -1, dtype=torch.long)
        for g, idx in enumerate(self.gates):
            angle_gate[list(idx)] = g
        self.register_buffer("angle_gate", angle_gate, persistent=False)
        if mask is None:
            gen = torch.Generator().manual_seed(seed)
            chosen = torch.randperm(self.n_gates, generator=gen)[:self.budget]
            init = torch.zeros(self.n_gates)
            init[chosen] = 1.0
        else:
            init = torch.as_tensor(list(mask), dtype=torch.float32)
            if init.shape != (self.n_gates,) or int(init.sum()) != self.budget or \
                    not torch.all((init == 0) | (init == 1)):
                raise ValueError(f"an initial mask must be {self.n_gates} zeros and ones with "
                                 f"{self.budget} ones (the budget), got {list(mask)}")
        self.register_buffer("gate_mask", init)
        self.register_buffer("ema", torch.zeros(self.n_gates))
        self.register_buffer("last_grad", torch.zeros(len(qnn.names)))
        self.register_buffer("step", torch.zeros((), dtype=torch.long))
        self.register_buffer("last_swap", torch.zeros((), dtype=torch.long))
        self.register_buffer("swaps", torch.zeros((), dtype=torch.long))   # gates swapped in all
        self._optimizer = None
        self._epoch_swaps = 0

    # --- the mask ------------------------------------------------------------------------------

    @property
    def n_features(self) -> int:
        return self.qnn.n_features

    def angle_mask(self) -> torch.Tensor:
        """1.0 for the angles of active gates (and of angles outside any gate), else 0.0."""
        full = torch.cat([self.gate_mask, torch.ones(1, device=self.gate_mask.device)])
        return full[self.angle_gate]     # index -1: the appended 1

    def effective(self) -> torch.Tensor:
        return self.qnn.weights * self.angle_mask()

    def active(self) -> list[int]:
        return [g for g, on in enumerate(self.gate_mask.tolist()) if on]

    def per_gate(self, per_angle: torch.Tensor) -> torch.Tensor:
        """Sum of a per-angle quantity over each gate's angles."""
        out = torch.zeros(self.n_gates + 1, dtype=per_angle.dtype)
        out.index_add_(0, torch.where(self.angle_gate < 0, self.n_gates, self.angle_gate), per_angle)
        return out[:-1]

    def saliency(self) -> torch.Tensor:
        """Per gate: ``sum |wrap(theta)| * |grad|`` over its angles (the last step's gradient)."""
        return self.per_gate(wrap(self.qnn.weights.detach()).abs() * self.last_grad)

    def n_swap(self, step: int) -> int:
        """Gates to swap at ``step``: cosine decay of ``swap_frac * budget`` to 0 at ``stop``."""
        if not self.total_steps or not self.swap_frac:
            return 0
        end = self.stop * self.total_steps
        if step >= end:
            return 0
        n = round(self.swap_frac * self.budget * 0.5 * (1 + math.cos(math.pi * step / end)))
        return min(n, self.budget, self.n_gates - self.budget)

    @torch.no_grad()
    def swap(self, n: int) -> tuple[list[int], list[int]]:
        """Prune the ``n`` least salient active gates, grow the ``n`` inactive ones of largest
        average gradient (at angle 0); returns (pruned, grown) gate indices."""
        if n <= 0:
            return [], []
        on = self.gate_mask.bool().tolist()
        sal, ema = self.saliency().tolist(), self.ema.tolist()
        active = sorted((g for g in range(self.n_gates) if on[g]), key=lambda g: (sal[g], g))
        inactive = sorted((g for g in range(self.n_gates) if not on[g]), key=lambda g: (-ema[g], g))
        pruned, grown = active[:n], inactive[:n]
        self.gate_mask[pruned] = 0.0
        self.gate_mask[grown] = 1.0
        angles = [i for g in grown for i in self.gates[g]]
        self.qnn.weights[angles] = 0.0
        if self._optimizer is not None:
            state = self._optimizer.state.get(self.qnn.weights, {})
            for key in ("exp_avg", "exp_avg_sq"):
                if key in state:
                    state[key][angles] = 0.0
        self.swaps += n
        self._epoch_swaps += n
        return pruned, grown

    def attach(self, optimizer: torch.optim.Optimizer) -> None:
        """Reset the Adam moments of grown gates in ``optimizer`` (the trainer's)."""
        self._optimizer = optimizer

    def _record(self, grad: torch.Tensor) -> None:
        """Backward hook on the effective angles: last gradient, moving average, step count."""
        g = grad.detach().abs().reshape(-1, grad.shape[-1]).sum(0).to(self.last_grad)
        self.last_grad.copy_(g)
        self.ema.mul_(self.decay).add_((1 - self.decay) * self.per_gate(g))
        self.step += 1

    def _maybe_swap(self) -> None:
        step = int(self.step)
        if step and step % self.every == 0 and step != int(self.last_swap):
            self.last_swap.fill_(step)
            self.swap(self.n_swap(step))

    # --- the model -----------------------------------------------------------------------------

    def step_angles(self) -> torch.Tensor:
        """The effective angles of a forward pass: in training, swap first when due, and record
        the gradient that will flow back to them."""
        training = self.training and torch.is_grad_enabled()
        if training:
            self._maybe_swap()
        eff = self.effective()
        if training and eff.requires_grad:
            eff.register_hook(self._record)
        return eff

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from qml import expval_z, simulate

        q = self.qnn
        feats = q.encoder.features(x).to(q.weights.dtype)
        z = expval_z(simulate(q.template, self.step_angles(), feats, dtype=q.dtype, gradient=q.gradient))
        return z if q.readout is None else torch.log_softmax(q.readout(z), dim=1)

    def epoch_metrics(self) -> dict:
        """Per epoch: the mask as a 0/1 string, gates swapped in the epoch and in all, steps."""
        swapped, self._epoch_swaps = self._epoch_swaps, 0
        return {"mask": "".join(str(int(v)) for v in self.gate_mask.tolist()), "swapped": swapped,
                "total_swapped": int(self.swaps), "step": int(self.step),
                "active": int(self.gate_mask.sum())}

    def pruned_names(self) -> set[str]:
        off = [g for g, on in enumerate(self.gate_mask.tolist()) if not on]
        return {self.qnn.names[i] for g in off for i in self.gates[g]}

    def param_dict(self) -> dict[str, float]:
        """The angles of the active gates (by name)."""
        pruned = self.pruned_names()
        return {n: v for n, v in zip(self.qnn.names, self.qnn.weights.detach().tolist())
                if n not in pruned}

    def ansatz(self) -> Circuit:
        """The exported sparse ansatz: inactive gates removed, active angles symbolic."""
        return export_pruned(self.qnn.ansatz, None, self.pruned_names())

    def circuit(self) -> Circuit:
        """The encoder and the sparse ansatz, angles of the ansatz bound (inputs symbolic)."""
        return (self.qnn.encoder.circuit(self.qnn.n_wires) + self.ansatz()).bind(params=self.param_dict())


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    return math.ceil(n_train / batch_size)


# --- VQE ---------------------------------------------------------------------------------------

class _Angles(nn.Module):
    """An ansatz and its angles (float64, normal with sd ``scale`` from ``seed``): what
    :class:`SparseQNN`'s mask logic reads of a QNN (``ansatz``, ``names``, ``weights``)."""

    def __init__(self, ansatz: Circuit, seed: int, scale: float):
        super().__init__()
        self.ansatz, self.names = ansatz, ansatz.parameters
        gen = torch.Generator().manual_seed(seed)
        self.weights = nn.Parameter(torch.randn(len(self.names), generator=gen, dtype=torch.float64) * scale)


class SparseVQE(SparseQNN):
    """QuantumSEA for VQE: ``energy()`` of ``hamiltonian`` on ``prefix + ansatz`` (prefix: the
    Hartree-Fock state by default) with the sparse ansatz; the mask logic of :class:`SparseQNN`.

    Example:
        >>> from qml.layers import build_space
        >>> from qml.vqe import load_hamiltonian
        >>> h2 = load_hamiltonian("h2")
        >>> result = sparse_vqe(h2, build_space("u3cu3", 2, 3), density=0.5, steps=150, every=5)
        >>> result["gates"], abs(result["energy"] - h2.exact_energy) < 0.02
        (6, True)
    """

    def __init__(self, ansatz: Circuit, hamiltonian, density: float, every: int = 10, *,
                 prefix: Circuit | None = None, init_scale: float = 0.1, seed: int = 0, **kw):
        super().__init__(_Angles(ansatz, seed, init_scale), density, every, seed=seed, **kw)
        from qml.vqe import hartree_fock

        self.hamiltonian = hamiltonian
        self.prefix = hartree_fock(hamiltonian) if prefix is None else prefix

    def energy(self) -> torch.Tensor:
        from qml.vqe import energy

        return energy(self.prefix + self.qnn.ansatz, self.hamiltonian, self.step_angles())

    def forward(self, x=None):
        return self.energy()


def sparse_vqe(hamiltonian, ansatz: Circuit, density: float, steps: int = 300, lr: float = 0.05,
               every: int = 10, *, swap_frac: float = 0.3, stop: float = 0.75, ema: float = 0.9,
               seed: int = 0, mask: Sequence[int] | None = None, swaps: bool = True,
               init_scale: float = 0.1) -> dict:
    """Minimise the energy over a sparse ``ansatz`` with Adam (``swaps=False``: the mask fixed;
    angles start normal with sd ``init_scale``, after the Hartree-Fock state);
    returns the final energy, the exported gate and parameter counts, the swaps and the energy
    per step."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    model = SparseVQE(ansatz, hamiltonian, density, every, swap_frac=swap_frac if swaps else 0.0,
                      total_steps=steps, stop=stop, ema=ema, seed=seed, mask=mask, init_scale=init_scale)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.attach(opt)
    history = []
    for _ in range(steps):
        e = model.energy()
        opt.zero_grad()
        e.backward()
        opt.step()
        history.append(float(e.detach()))
    with torch.no_grad():
        final = float(model.eval().energy())
    sparse = model.ansatz()
    return {"energy": final, "gates": len(sparse.gates), "params": len(sparse.parameters),
            "swapped": int(model.swaps), "history": history,
            "mask": "".join(str(int(v)) for v in model.gate_mask.tolist())}


__all__ = ["SparseQNN", "SparseVQE", "check_density", "check_every", "gate_angles", "sparse_vqe",
           "steps_per_epoch"]
