"""SuperCircuit training by sampling: a new SubCircuit for every batch.

:class:`Sampler` draws the genes:

- ``"front"``: every gene position uniform in its range (each layer keeps a uniform number of
  front gates, the block count is uniform);
- ``"restricted"`` (the default): the previous gene with only ``k`` positions (7) resampled,
  so consecutive SubCircuits differ little and the shared angles are not pulled in many
  directions at once (the first gene of a run is a front sample).

With ``shrink_epochs`` > 0 (progressive shrinking) the ranges open gradually: in epoch ``e``
(from 0) position ``i`` ranges over ``[high - ceil((high - low) * e / shrink_epochs), high]``,
so the run starts on the largest SubCircuit and reaches the whole space at ``shrink_epochs``.
With ``largest_every`` = n > 0, every n-th step trains the largest SubCircuit instead (the
sandwich rule of once-for-all networks, not in QuantumNAS), so deep SubCircuits keep up.

:class:`SuperTrainer` is :class:`qml.train.Trainer` with the sampler inside the epoch: the
same optimizer (Adam), warm-up then cosine schedule, atomic ``last.pt``/``best.pt``
checkpoints (which also hold the sampler's RNG and previous gene), ``fit(resume=True)`` and
the refusal to resume a different run. After every epoch it validates the largest SubCircuit.

Example:
    >>> from qml.data import load_task
    >>> from qml.nas import SuperCircuit, SubCircuitQNN, Sampler, SuperTrainer
    >>> from qml.train import TrainConfig
    >>> sc = SuperCircuit("u3cu3", 4, 3, seed=0)
    >>> model = SubCircuitQNN(sc, "4x4_ryzxy", n_classes=4)
    >>> trainer = SuperTrainer(model, load_task("digits4"), TrainConfig(epochs=2, seed=0),
    ...                        sampler=Sampler(sc, "restricted", k=2, seed=0), progress=False)
    >>> len(trainer.fit()["history"])
    2
"""

from __future__ import annotations

import math
import os
import random
from pathlib import Path
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from qml.data import TaskData
from qml.nas.supercircuit import Gene, SubCircuitQNN, SuperCircuit
from qml.train import TrainConfig, Trainer

STRATEGIES = ("front", "restricted")


class Sampler:
    """Genes for SuperCircuit training (see the module docstring); seeded, checkpointable."""

    def __init__(self, supercircuit: SuperCircuit, strategy: str = "restricted", *, k: int = 7,
                 shrink_epochs: int = 0, largest_every: int = 0, seed: int = 0):
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown sampling strategy {strategy!r}; valid: {', '.join(STRATEGIES)}")
        if k < 1:
            raise ValueError(f"restricted sampling resamples k >= 1 positions, got k={k}")
        if shrink_epochs < 0 or largest_every < 0:
            raise ValueError(f"shrink_epochs and largest_every must be >= 0, got {shrink_epochs} "
                             f"and {largest_every}")
        self.supercircuit, self.strategy, self.k = supercircuit, strategy, k
        self.shrink_epochs, self.largest_every, self.seed = shrink_epochs, largest_every, seed
        self.rng = random.Random(seed)
        self.step = 0
        self.previous: Gene | None = None
        self.lows: Gene = supercircuit.smallest
        self.set_epoch(0)

    def settings(self) -> dict:
        return {"strategy": self.strategy, "k": self.k, "shrink_epochs": self.shrink_epochs,
                "largest_every": self.largest_every, "sampler_seed": self.seed}

    def set_epoch(self, epoch: int) -> None:
        """Open the ranges for ``epoch`` (progressive shrinking; no-op without it)."""
        space = self.supercircuit.gene_space
        if self.shrink_epochs and epoch < self.shrink_epochs:
            f = epoch / self.shrink_epochs
            self.lows = tuple(high - math.ceil((high - low) * f) for low, high in space)
        else:
            self.lows = tuple(low for low, _ in space)

    def next(self) -> Gene:
        """The next gene."""
        sc = self.supercircuit
        self.step += 1
        if self.largest_every and self.step % self.largest_every == 0:
            return sc.largest  # the sampling sequence goes on from the previous gene
        if self.strategy == "front" or self.previous is None:
            gene = sc.sample(self.rng, self.lows)
        else:
            gene = list(self.previous)
            for i in self.rng.sample(range(sc.gene_length), min(self.k, sc.gene_length)):
                gene[i] = self.rng.randint(max(self.lows[i], sc.gene_space[i][0]), sc.gene_space[i][1])
            gene = tuple(gene)
        self.previous = gene
        return gene

    def state_dict(self) -> dict:
        version, state, gauss = self.rng.getstate()
        return {"rng": [version, list(state), gauss], "step": self.step,
                "previous": None if self.previous is None else list(self.previous)}

    def load_state_dict(self, state: dict) -> None:
        version, internal, gauss = state["rng"]
        self.rng.setstate((version, tuple(internal), gauss))
        self.step = state["step"]
        self.previous = None if state["previous"] is None else tuple(state["previous"])


class SuperTrainer(Trainer):
    """:class:`qml.train.Trainer` for a :class:`SubCircuitQNN`: one sampled gene per batch.

    ``identity`` gets the SuperCircuit's and the sampler's settings, so resuming a checkpoint
    of another space, size or sampling is an error.
    """

    def __init__(self, model: SubCircuitQNN, data: TaskData, config: TrainConfig = TrainConfig(),
                 out_dir: str | os.PathLike | None = None, *, sampler: Sampler | None = None,
                 identity: dict | None = None, progress: bool = True,
                 on_epoch: Callable[[list[dict]], None] | None = None):
        if not isinstance(model, SubCircuitQNN):
            raise ValueError(f"SuperTrainer trains a SubCircuitQNN, got {type(model).__name__}")
        sc = model.supercircuit
        self.sampler = sampler or Sampler(sc, seed=config.seed)
        if self.sampler.supercircuit is not sc:
            raise ValueError("the sampler samples another SuperCircuit than the model's")
        identity = {**(identity or {}), "supercircuit": sc.space, "n_wires": sc.n_wires,
                    "n_blocks": sc.n_blocks, "init_scale": sc.init_scale, "gene_space": [list(r) for r in sc.gene_space],
                    **self.sampler.settings()}
        super().__init__(model, data, config, out_dir, identity=identity, progress=progress,
                         on_epoch=on_epoch)

    def _state(self) -> dict:
        return {**super()._state(), "sampler": self.sampler.state_dict()}

    def _restore(self, ckpt: dict, path: Path) -> None:
        super()._restore(ckpt, path)
        if "sampler" not in ckpt:
            raise ValueError(f"cannot resume: {path} is not a SuperCircuit checkpoint (no sampler state)")
        self.sampler.load_state_dict(ckpt["sampler"])

    def _train_epoch(self) -> tuple[float, float]:
        x, y = self.data.x_train, self.data.y_train
        self.sampler.set_epoch(self.epoch)
        order = torch.randperm(len(y), generator=self.shuffle)
        self.model.train()
        loss_sum, correct = 0.0, 0
        for i in range(0, len(y), self.config.batch_size):
            idx = order[i:i + self.config.batch_size]
            self.model.set_gene(self.sampler.next())
            out = self.model(x[idx])
            loss = F.nll_loss(out, y[idx])
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            loss_sum += loss.item() * len(idx)
            correct += (out.argmax(1) == y[idx]).sum().item()
        self.model.set_gene(self.model.supercircuit.largest)  # validation: the largest
        return loss_sum / len(y), correct / len(y)


def evaluate_genes(model: SubCircuitQNN, genes: Sequence[Sequence[int]], x: torch.Tensor,
                   y: torch.Tensor) -> list[tuple[float, float]]:
    """(NLL loss, accuracy) of each gene's SubCircuit with the inherited angles on ``(x, y)``."""
    from qml.train import evaluate

    saved, results = model.gene, []
    for gene in genes:
        model.set_gene(gene)
        results.append(evaluate(model, x, y))
    model.set_gene(saved)
    return results


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation (ties get their average rank); ``nan`` when a side is constant.

    Example:
        >>> spearman([1, 2, 3, 4], [10, 30, 20, 40]), spearman([1, 1, 2], [3, 2, 1])
        (0.8, -0.8660254037844387)
    """
    if len(a) != len(b) or len(a) < 2:
        raise ValueError(f"spearman needs two sequences of the same length >= 2, got {len(a)} and {len(b)}")

    def ranks(v):
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        i = 0
        while i < len(v):
            j = i
            while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for t in range(i, j + 1):
                r[order[t]] = (i + j) / 2
            i = j + 1
        return r

    ra, rb = ranks(list(a)), ranks(list(b))
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    var = math.sqrt(sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb))
    return cov / var if var else float("nan")
