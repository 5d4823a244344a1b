"""Training loop for QNN classifiers: Adam, cosine schedule, NLL loss, checkpoints, resume.

The defaults are those of the QuantumNAS/TorchQuantum examples: Adam (lr 5e-3, weight decay
1e-4), batch 256, a cosine learning-rate schedule stepped once per epoch (optionally after a
linear warm-up), NLL loss on log-softmax outputs.

Every epoch the trainer validates and writes ``last.pt`` (and ``best.pt`` when the validation
accuracy improves) atomically: a temporary file, then a rename. A checkpoint holds the model,
optimizer, scheduler, epoch, history and RNG states, so ``fit(resume=True)`` after a killed run
continues exactly where the last checkpoint left it and ends with the same parameters as an
uninterrupted run with the same seed. Resuming with more epochs than the checkpoint's run
extends it (a finished run too): the cosine schedule is stretched to the new total, a warm
restart. Resuming where there is no checkpoint is an error, as it is for ``qec train``.

Example:
    >>> import torch
    >>> from qml.data import load_task
    >>> from qml.layers import build_space
    >>> from qml.model import QNN
    >>> from qml.train import TrainConfig, Trainer
    >>> data = load_task("digits4")
    >>> model = QNN(4, "4x4_ryzxy", build_space("u3cu3", 4, 2), n_classes=4, seed=0)
    >>> result = Trainer(model, data, TrainConfig(epochs=2, seed=0), progress=False).fit()
    >>> len(result["history"]), 0.0 <= result["test_acc"] <= 1.0
    (2, True)
"""

from __future__ import annotations

import math
import os
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from qml.data import TaskData
from qml.files import atomic_save, save_figure
from qml.files import load_checkpoint as _load

LAST, BEST = "last.pt", "best.pt"
KIND = "qml-bench train checkpoint"
_REQUIRED = ("model", "optimizer", "scheduler", "epoch", "history", "best_valid", "torch_rng",
             "shuffle_rng", "identity")
# settings that may change when a run is resumed (more epochs extend it)
_EXTENDABLE = ("epochs",)


@dataclass
class TrainConfig:
    """Optimizer, schedule and loop settings (the QuantumNAS/TorchQuantum defaults)."""

    epochs: int = 50
    batch_size: int = 256
    lr: float = 5e-3
    weight_decay: float = 1e-4
    warmup_epochs: int = 0
    seed: int = 0

    def __post_init__(self):
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"epochs and batch_size must be positive, got {self.epochs} and "
                             f"{self.batch_size}")
        if not 0 <= self.warmup_epochs < self.epochs:
            raise ValueError(f"warmup_epochs must be in [0, epochs), got {self.warmup_epochs}")


class WarmupCosine:
    """Learning-rate factor per epoch: linear warm-up, then cosine decay to zero.

    Example:
        >>> [round(WarmupCosine(4, 0)(e), 3) for e in range(4)]
        [1.0, 0.854, 0.5, 0.146]
    """

    def __init__(self, epochs: int, warmup: int):
        self.epochs, self.warmup = epochs, warmup

    def __call__(self, epoch: int) -> float:
        if epoch < self.warmup:
            return (epoch + 1) / (self.warmup + 1)
        return 0.5 * (1 + math.cos(math.pi * (epoch - self.warmup) / (self.epochs - self.warmup)))


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024
             ) -> tuple[float, float]:
    """Mean NLL loss and accuracy of ``model`` (log-probabilities out) on ``(x, y)``."""
    was_training = model.training
    model.eval()
    loss, correct = 0.0, 0
    for i in range(0, len(y), batch_size):
        out = model(x[i:i + batch_size])
        loss += F.nll_loss(out, y[i:i + batch_size], reduction="sum").item()
        correct += (out.argmax(1) == y[i:i + batch_size]).sum().item()
    model.train(was_training)
    return loss / len(y), correct / len(y)


def load_checkpoint(path: str | os.PathLike) -> dict:
    """A checkpoint written by :class:`Trainer`, loaded safely (``weights_only=True``).

    A missing, empty, truncated, corrupt or foreign file (a ``qec train`` checkpoint, say) is a
    ``ValueError`` naming the file and what is wrong.
    """
    return _load(path, kind=KIND, required=_REQUIRED)


class Trainer:
    """Train ``model`` on ``data`` with ``config``; checkpoints go to ``out_dir`` when given.

    ``identity`` is a dict of plain values describing the run (task, space, ...); it is stored
    in every checkpoint, and resuming from a checkpoint of a different run is an error.
    ``on_epoch(history)`` is called after every epoch (e.g. to write a JSON record). A model
    may define ``extra_loss()``, a term added to each step's training loss, and
    ``epoch_metrics()``, a dict added to each epoch's record (before it is checkpointed).
    """

    def __init__(self, model: nn.Module, data: TaskData, config: TrainConfig = TrainConfig(),
                 out_dir: str | os.PathLike | None = None, *, identity: dict | None = None,
                 progress: bool = True,
                 on_epoch: Callable[[list[dict]], None] | None = None):
        if model.n_features != data.n_features:
            raise ValueError(f"the model reads {model.n_features} features but task "
                             f"{data.name!r} has {data.n_features}")
        self.model, self.data, self.config = model, data, config
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.identity = {**(identity or {}), **asdict(config), "task": data.name}
        for key in _EXTENDABLE:
            self.identity.pop(key, None)
        self.progress, self.on_epoch = progress, on_epoch
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config.lr,
                                          weight_decay=config.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, WarmupCosine(config.epochs, config.warmup_epochs))
        self.shuffle = torch.Generator().manual_seed(config.seed)
        self.epoch = 0
        self.history: list[dict] = []
        self.best_valid = -1.0
        self._wall_before, self._wall_start = 0.0, None

    @property
    def wall_s(self) -> float:
        """Wall time of the whole run so far, the sessions before a resume included."""
        now = 0.0 if self._wall_start is None else time.perf_counter() - self._wall_start
        return self._wall_before + now

    # --- checkpoints ---------------------------------------------------------------------------

    def _state(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "epoch": self.epoch,
                "history": self.history, "best_valid": self.best_valid,
                "torch_rng": torch.get_rng_state(), "shuffle_rng": self.shuffle.get_state(),
                "identity": self.identity, "wall_s": self.wall_s}

    def _restore(self, ckpt: dict, path: Path) -> None:
        if not isinstance(ckpt["identity"], dict):
            raise ValueError(f"{path} is not a {KIND}: its identity is not a dict")
        saved = {k: v for k, v in ckpt["identity"].items() if k not in _EXTENDABLE}
        mismatch = sorted(k for k in set(saved) | set(self.identity)
                          if saved.get(k) != self.identity.get(k))
        if mismatch:
            raise ValueError(f"cannot resume: the checkpoint {path} is of a different run ("
                             + ", ".join(f"{k}: {saved.get(k)!r} there, "
                                         f"{self.identity.get(k)!r} here" for k in mismatch) + ")")
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.scheduler.load_state_dict(ckpt["scheduler"])
        schedule = self.scheduler.lr_lambdas[0]  # load_state_dict restored the saved run's length
        if (schedule.epochs, schedule.warmup) != (self.config.epochs, self.config.warmup_epochs):
            # more (or fewer) epochs: stretch the cosine to the new total from where the run is
            schedule.epochs, schedule.warmup = self.config.epochs, self.config.warmup_epochs
            for group, base in zip(self.optimizer.param_groups, self.scheduler.base_lrs):
                group["lr"] = base * schedule(self.scheduler.last_epoch)
        self.epoch, self.history, self.best_valid = ckpt["epoch"], ckpt["history"], ckpt["best_valid"]
        self._wall_before = float(ckpt.get("wall_s", sum(h.get("epoch_s", 0.0) for h in self.history)))
        torch.set_rng_state(ckpt["torch_rng"])
        self.shuffle.set_state(ckpt["shuffle_rng"])

    def _save(self, improved: bool) -> None:
        if self.out_dir is None:
            return
        state = self._state()
        atomic_save(state, self.out_dir / LAST)
        if improved:
            atomic_save(state, self.out_dir / BEST)

    # --- the loop ------------------------------------------------------------------------------

    def _train_epoch(self) -> tuple[float, float]:
        x, y = self.data.x_train, self.data.y_train
        order = torch.randperm(len(y), generator=self.shuffle)
        self.model.train()
        loss_sum, correct = torch.zeros(()), torch.zeros((), dtype=torch.long)
        for i in range(0, len(y), self.config.batch_size):
            idx = order[i:i + self.config.batch_size]
            xb, yb = x[idx], y[idx]
            out = self.model(xb)
            loss = F.nll_loss(out, yb)
            extra = getattr(self.model, "extra_loss", None)
            if extra is not None:           # e.g. QuantumNAT's quantization penalty
                loss = loss + extra()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            with torch.no_grad():  # summed as tensors: no per-step conversion to Python
                loss_sum += loss.detach().cpu() * len(idx)
                correct += (out.argmax(1) == yb).sum().cpu()
        return loss_sum.item() / len(y), correct.item() / len(y)

    def fit(self, resume: bool = False) -> dict:
        """Train for the remaining epochs; returns the history and final/best accuracies.

        With ``resume``, continue from ``out_dir/last.pt`` (an error when there is none).
        """
        self.start(resume)
        while not self.done:
            self.run_epoch()
        return self.finish()

    def start(self, resume: bool = False) -> None:
        """Restore the last checkpoint (with ``resume``) and open the progress bar."""
        if resume:
            if self.out_dir is None:
                raise ValueError("cannot resume: the trainer has no checkpoint directory")
            path = self.out_dir / LAST
            if not path.exists():
                raise ValueError(f"cannot resume: no checkpoint at {path}")
            self._restore(load_checkpoint(path), path)
        self._wall_start = time.perf_counter()
        from tqdm import tqdm

        self._bar = tqdm(total=self.config.epochs, initial=self.epoch, unit="epoch",
                         desc=f"train {self.data.name}", disable=not self.progress, leave=False)

    @property
    def done(self) -> bool:
        return self.epoch >= self.config.epochs

    def run_epoch(self) -> dict:
        """One epoch: train, step the schedule, validate, checkpoint; returns its metrics.

        ``epoch_s`` is its training wall time, ``epoch_cpu_s`` this process's CPU time.
        """
        start, cpu = time.perf_counter(), time.process_time()
        lr = self.optimizer.param_groups[0]["lr"]
        train_loss, train_acc = self._train_epoch()
        self.scheduler.step()
        epoch_s, epoch_cpu_s = time.perf_counter() - start, time.process_time() - cpu
        valid_loss, valid_acc = evaluate(self.model, self.data.x_valid, self.data.y_valid)
        self.epoch += 1
        metrics = {"epoch": self.epoch, "lr": lr, "train_loss": train_loss,
                   "train_acc": train_acc, "valid_loss": valid_loss, "valid_acc": valid_acc,
                   "epoch_s": epoch_s, "epoch_cpu_s": epoch_cpu_s}
        more = getattr(self.model, "epoch_metrics", None)
        if more is not None:            # e.g. QOC's circuits run and shots spent in the epoch
            metrics.update(more())
        self.history.append(metrics)
        improved = valid_acc > self.best_valid
        self.best_valid = max(self.best_valid, valid_acc)
        self._save(improved)
        if self.on_epoch:
            self.on_epoch(self.history)
        self._bar.update(1)
        self._bar.set_postfix(loss=f"{train_loss:.3f}", acc=f"{train_acc:.3f}",
                              val=f"{valid_acc:.3f}")
        return metrics

    def finish(self) -> dict:
        """Close the progress bar; the :meth:`summary`."""
        self._bar.close()
        return self.summary()

    def summary(self) -> dict:
        """Final accuracies (train/valid/test), seconds per training epoch (median and least wall
        time, median CPU time), the best validation epoch and (with checkpoints) the test
        accuracy of its model."""
        d = self.data
        result = {"history": self.history, "epochs": self.epoch,
                  "train_acc": evaluate(self.model, d.x_train, d.y_train)[1],
                  "valid_acc": evaluate(self.model, d.x_valid, d.y_valid)[1],
                  "test_acc": evaluate(self.model, d.x_test, d.y_test)[1],
                  # the median: robust to the pauses of a shared machine
                  "s_per_epoch": _median(self.history, "epoch_s"),
                  "min_s_per_epoch": min((h["epoch_s"] for h in self.history), default=0.0),
                  "cpu_s_per_epoch": _median(self.history, "epoch_cpu_s")}
        best = max(self.history, key=lambda h: h["valid_acc"], default=None)
        result["best_epoch"] = best["epoch"] if best else 0
        if self.out_dir is not None and (self.out_dir / BEST).exists():
            final = {k: v.clone() for k, v in self.model.state_dict().items()}
            self.model.load_state_dict(load_checkpoint(self.out_dir / BEST)["model"])
            result["best_test_acc"] = evaluate(self.model, d.x_test, d.y_test)[1]
            self.model.load_state_dict(final)
        return result


def _median(history: list[dict], key: str) -> float:
    return statistics.median(h.get(key, 0.0) for h in history) if history else 0.0


def plot_history(history: list[dict], path: str | os.PathLike, title: str = "") -> None:
    """Learning curves (loss, and train/validation accuracy per epoch) to a PNG, atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax_loss.plot(epochs, [h["train_loss"] for h in history], label="train")
    ax_loss.plot(epochs, [h["valid_loss"] for h in history], label="validation")
    ax_loss.set(xlabel="epoch", ylabel="NLL loss")
    ax_acc.plot(epochs, [h["train_acc"] for h in history], label="train")
    ax_acc.plot(epochs, [h["valid_acc"] for h in history], label="validation")
    ax_acc.set(xlabel="epoch", ylabel="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)
