"""Global magnitude pruning of rotation angles (QuantumNAS), on a cubic schedule.

Angles are trained unbounded; an angle's *magnitude* is ``|wrap(theta)|`` with ``wrap`` into
``(-pi, pi]``. In every fine-tuning epoch ``e`` (1..E) the ratio of pruned angles is

    ratio(e) = target * (1 - (1 - e / E) ** 3)

(fast at first, gentle at the end; ``target`` at the last epoch) and the mask is recomputed
from the current *effective* angles (pruned ones count as 0): the ``round(ratio * P)`` angles
of least magnitude over the whole circuit are pruned (ties: the earlier parameter first). A
pruned angle is 0 in the forward pass and gets no gradient; an angle once pruned stays pruned
(its effective magnitude is 0 and the ratio never falls).

Export rule (:func:`export_pruned`): a pruned angle is bound to 0. A gate every one of whose
angles is pruned is removed: it is the identity then (RX/RY/RZ/U1/RZZ/RXX/RZX/CRX(0) = I,
U3(0, 0, 0) = I and CU3(0, 0, 0) = I). A U3 or CU3 with only some angles pruned stays, with
those angles 0 (U3(0, phi, lam) is a phase gate, not the identity). Gates without trainable
angles are kept. Note that wrapping only decides which angles are small: a pruned angle
becomes exactly 0 (a controlled rotation by 2pi is not the identity, so magnitudes are taken
of the wrapped angle but the gate is removed only at 0).

Example:
    >>> [round(PruneSchedule(0.5, 4)(e), 4) for e in range(1, 5)]
    [0.2891, 0.4375, 0.4922, 0.5]
    >>> from qml import Circuit
    >>> c = Circuit(2).rx(0, "a").u3(1, "b", "c", "d").cx(0, 1)
    >>> pruned = export_pruned(c, {"a": 0.0, "b": 0.0, "c": 1.0, "d": 2.0}, {"a", "b"})
    >>> [(op.name, op.params) for op in pruned.ops]
    [('u3', (0.0, 1.0, 2.0)), ('cx', ())]
"""

from __future__ import annotations

import math
import os
from typing import Callable, Iterable

import torch
from torch import nn

from qml.circuit import Circuit, Param, symbols
from qml.data import TaskData
from qml.model import QNN
from qml.train import TrainConfig, Trainer


def wrap(theta: torch.Tensor) -> torch.Tensor:
    """Angles into ``(-pi, pi]``.

    Example:
        >>> [round(v, 4) for v in wrap(torch.tensor([math.pi, -math.pi, 3 * math.pi / 2])).div(math.pi).tolist()]
        [1.0, 1.0, -0.5]
    """
    return math.pi - torch.remainder(math.pi - theta, 2 * math.pi)


class PruneSchedule:
    """The pruned ratio after fine-tuning epoch ``e`` of ``epochs``: cubic, ``target`` at the end."""

    def __init__(self, target: float, epochs: int, power: float = 3.0):
        if not 0 <= target < 1:
            raise ValueError(f"the pruning ratio must be in [0, 1), got {target}")
        if epochs < 1:
            raise ValueError(f"pruning needs at least one fine-tuning epoch, got {epochs}")
        self.target, self.epochs, self.power = target, epochs, power

    def __call__(self, epoch: int) -> float:
        e = min(max(epoch, 0), self.epochs)
        return self.target * (1 - (1 - e / self.epochs) ** self.power)


def magnitude_mask(theta: torch.Tensor, ratio: float) -> torch.Tensor:
    """Keep-mask (1.0 kept, 0.0 pruned) pruning the ``round(ratio * P)`` smallest ``|wrap|``."""
    n_prune = int(round(ratio * theta.numel()))
    mask = torch.ones_like(theta)
    if n_prune:
        magnitude = wrap(theta.detach()).abs()
        order = sorted(range(theta.numel()), key=lambda i: (magnitude[i].item(), i))
        mask[order[:n_prune]] = 0.0
    return mask


class PrunedQNN(nn.Module):
    """A :class:`qml.model.QNN` whose angles are multiplied by a keep-mask (a buffer, so the
    mask is in ``state_dict`` and checkpoints).

    Example:
        >>> from qml.layers import build_space
        >>> m = PrunedQNN(QNN(4, "4x4_ryzxy", build_space("zzry", 4, 1), seed=0))
        >>> m.prune(0.5); int(m.mask.sum()), m.n_pruned
        (4, 4)
    """

    def __init__(self, qnn: QNN):
        super().__init__()
        self.qnn = qnn
        self.register_buffer("mask", torch.ones_like(qnn.weights.detach()))

    @property
    def n_features(self) -> int:
        return self.qnn.n_features

    @property
    def n_pruned(self) -> int:
        return int((self.mask == 0).sum())

    def effective(self) -> torch.Tensor:
        return self.qnn.weights * self.mask

    def prune(self, ratio: float) -> None:
        """Recompute the mask at ``ratio`` from the effective angles."""
        self.mask.copy_(magnitude_mask(self.effective(), ratio))

    def pruned_names(self) -> set[str]:
        return {n for n, keep in zip(self.qnn.names, self.mask.tolist()) if not keep}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from qml import expval_z, simulate

        q = self.qnn
        feats = q.encoder.features(x).to(q.weights.dtype)
        z = expval_z(simulate(q.template, self.effective(), feats, dtype=q.dtype, gradient=q.gradient))
        return z if q.readout is None else torch.log_softmax(q.readout(z), dim=1)

    def param_dict(self) -> dict[str, float]:
        return dict(zip(self.qnn.names, self.effective().detach().cpu().tolist()))

    def ansatz(self) -> Circuit:
        """The exported ansatz: pruned gates removed (symbolic names kept for the rest)."""
        return export_pruned(self.qnn.ansatz, None, self.pruned_names())


def export_pruned(circuit: Circuit, params: dict[str, float] | None,
                  pruned: Iterable[str]) -> Circuit:
    """``circuit`` with the ``pruned`` parameters bound to 0 and all-pruned gates removed.

    With ``params``, every other parameter is bound to its value too.
    """
    pruned = set(pruned)
    out = Circuit(circuit.n_wires, global_phase=circuit.global_phase)
    for op in circuit.ops:
        names = [s.name for p in op.params for s in symbols(p) if isinstance(s, Param)]
        if names and all(n in pruned for n in names) and all(isinstance(p, Param) for p in op.params):
            continue  # every angle 0: the identity
        out.append(op.name, op.wires, op.params, adjoint=op.adjoint, matrix=op.matrix)
    values = {n: 0.0 for n in pruned if n in out.parameters}
    if params is not None:
        values.update({n: params[n] for n in out.parameters if n not in pruned})
    return out.bind(params=values) if values else out


class PruneTrainer(Trainer):
    """Fine-tune a :class:`PrunedQNN`, recomputing its mask at the schedule's ratio before every
    epoch (``config.epochs`` is the schedule's length). Checkpoints and resume as
    :class:`qml.train.Trainer` (the mask is in the model's state)."""

    def __init__(self, model: PrunedQNN, data: TaskData, target: float,
                 config: TrainConfig = TrainConfig(), out_dir: str | os.PathLike | None = None, *,
                 identity: dict | None = None, progress: bool = True,
                 on_epoch: Callable[[list[dict]], None] | None = None):
        if not isinstance(model, PrunedQNN):
            raise ValueError(f"PruneTrainer fine-tunes a PrunedQNN, got {type(model).__name__}")
        self.schedule = PruneSchedule(target, config.epochs)
        super().__init__(model, data, config, out_dir, identity={**(identity or {}), "prune": target},
                         progress=progress, on_epoch=on_epoch)

    def run_epoch(self) -> dict:
        self.model.prune(self.schedule(self.epoch + 1))
        return super().run_epoch()

    def _save(self, improved: bool) -> None:
        self.history[-1]["pruned"] = self.model.n_pruned  # in the record before it is written
        super()._save(improved)
