"""Training QuEst models: graphs from data sets, splits, MSE + Adam with early stopping.

:func:`graphs_of` turns data-set records into ``torch_geometric`` graphs (the device of each
record rebuilt from the data set's header and scaled). :func:`split` assigns records to
train / valid / test: by a hash of the record's id (80/10/10), or holding out a whole device
(``holdout_device``) or algorithm family (``holdout_family``) as the test split.

:class:`FidelityTrainer` follows ``qml.train.Trainer``: it knows no model architecture; every
epoch it validates and writes ``last.pt`` atomically (model, optimizer, scheduler, the best
weights so far, history, RNG state), stops early after ``patience`` epochs without a better
validation loss, ends with the best weights, and resumes a killed run exactly (a checkpoint of
a different run is refused).

>>> from noise.fidelity.model import build_model
>>> from noise.devices import Device
>>> from noise.fidelity.circuits import random_circuit
>>> from noise.fidelity.graph import circuit_graph
>>> dev = Device.from_name("lima")
>>> gs = [circuit_graph(random_circuit(dev, 2, 20, seed=s), dev, y=0.9) for s in range(8)]
>>> result = FidelityTrainer(build_model("mlp", hidden=8), gs[:6], gs[6:], FitConfig(epochs=3),
...                          progress=False).fit()
>>> len(result["history"]), result["best_epoch"] >= 1
(3, True)
"""

from __future__ import annotations

import copy
import os
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from qml.files import atomic_save, load_checkpoint

LAST = "last.pt"
KIND = "QuEst training checkpoint"
SPLITS = ("train", "valid", "test")


@dataclass
class FitConfig:
    """MSE, Adam, halving the learning rate on plateaus, early stopping on validation."""

    epochs: int = 100
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.0
    patience: int = 15
    seed: int = 0

    def __post_init__(self):
        if self.epochs < 1 or self.batch_size < 1 or self.patience < 1 or not self.lr > 0:
            raise ValueError(f"epochs, batch_size, patience and lr must be positive: {self}")


def graphs_of(dataset, records: Sequence[dict] | None = None, progress: bool = False) -> list:
    """The graph (with ``y`` = PST) of each record of ``dataset`` (all when ``records`` is None),
    built 512 at a time (:func:`~noise.fidelity.graph.circuit_graphs`)."""
    from noise.fidelity.graph import circuit_graphs

    records = list(dataset.records if records is None else records)
    chunks = range(0, len(records), 512)
    if progress:
        from tqdm.auto import tqdm

        chunks = tqdm(chunks, desc="graphs", unit="x512 circuits")
    out = []
    for k in chunks:
        part = records[k:k + 512]
        devices = [dataset.device(r["device"], r["scale"]) for r in part]
        graphs = circuit_graphs([dataset.circuit(r) for r in part], devices, [r["scale"] for r in part],
                                [r["pst"] for r in part])
        for g, r in zip(graphs, part):
            g.record_id = int(r["id"])
        out += graphs
    return out


def split(records: Sequence[dict], holdout_device: str | None = None, holdout_family: str | None = None,
          seed: int = 0, check: bool = True) -> dict[str, list[dict]]:
    """Records per split. By default a hash of (seed, kind, id) puts 10% in test, 10% in valid;
    with ``holdout_device`` / ``holdout_family`` the test split is every record of that device /
    algorithm family, and the rest is split 90/10 into train and valid. ``check``: a held-out
    device or family that no record has is an error (pass False when splitting one of several
    data sets, and check their union with :func:`check_holdout`)."""
    if check:
        check_holdout(records, holdout_device, holdout_family)
    out: dict[str, list[dict]] = {s: [] for s in SPLITS}
    for r in records:
        bucket = zlib.crc32(f"{seed}:{r['kind']}:{r['id']}".encode()) % 10
        if holdout_device is not None or holdout_family is not None:
            held = r["device"] == holdout_device or r["family"] == holdout_family
            out["test" if held else ("valid" if bucket == 0 else "train")].append(r)
        else:
            out["test" if bucket == 0 else "valid" if bucket == 1 else "train"].append(r)
    return out


def check_holdout(records: Sequence[dict], holdout_device: str | None, holdout_family: str | None) -> None:
    """A ValueError unless some record ran on ``holdout_device`` / is of ``holdout_family``."""
    if holdout_device is not None and not any(r["device"] == holdout_device for r in records):
        raise ValueError(f"no record ran on device {holdout_device!r}; devices in the data: "
                         f"{sorted({r['device'] for r in records})}")
    if holdout_family is not None and not any(r["family"] == holdout_family for r in records):
        raise ValueError(f"no record of family {holdout_family!r}; families in the data: "
                         f"{sorted({r['family'] for r in records})}")


def metrics(pred, true) -> dict:
    """RMSE, MAE and R^2 of predictions against labels."""
    pred, true = np.asarray(pred, float), np.asarray(true, float)
    if len(true) == 0:
        return {"n": 0, "rmse": float("nan"), "mae": float("nan"), "r2": float("nan")}
    err = pred - true
    var = float(np.var(true))
    return {"n": len(true), "rmse": float(np.sqrt(np.mean(err ** 2))), "mae": float(np.mean(np.abs(err))),
            "r2": 1 - float(np.mean(err ** 2)) / var if var > 0 else float("nan")}


class FidelityTrainer:
    """Train ``model`` on ``train`` graphs, validating on ``valid``; checkpoints in ``out_dir``.

    ``identity`` (plain values describing the run) is stored in every checkpoint; resuming
    from a checkpoint of another run is an error.
    """

    def __init__(self, model, train: Sequence, valid: Sequence, config: FitConfig = FitConfig(),
                 out_dir: str | os.PathLike | None = None, identity: dict | None = None, progress: bool = True):
        if not train or not valid:
            raise ValueError(f"training needs graphs in both splits, got {len(train)} train and {len(valid)} valid")
        self.model, self.train, self.valid, self.config = model, list(train), list(valid), config
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.identity = {"arch": model.arch, "hparams": dict(model.hparams), "config": asdict(config),
                         "n_train": len(self.train), "n_valid": len(self.valid), **(identity or {})}
        self.identity["config"].pop("epochs")  # more epochs may extend a run
        self.progress = progress
        self.history: list[dict] = []
        self.epoch, self.best_valid, self.best_epoch, self.bad_epochs = 0, float("inf"), 0, 0
        self.best_state = None
        self._wall0, self._started = 0.0, None

    # the Trainer split: start / run_epoch / finish
    def start(self, resume: bool = False) -> None:
        torch.manual_seed(self.config.seed)
        self.generator = torch.Generator().manual_seed(self.config.seed)
        self.model.fit_normalisation(self.train)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.config.lr,
                                          weight_decay=self.config.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(self.optimizer, factor=0.5, patience=5)
        if resume:
            if self.out_dir is None or not (self.out_dir / LAST).exists():
                raise ValueError(f"nothing to resume: no {LAST} in {self.out_dir}")
            self._restore(load_checkpoint(self.out_dir / LAST, kind=KIND,
                                          required=("model", "optimizer", "identity", "epoch")))
        self._started = time.perf_counter()

    def _restore(self, ckpt: dict) -> None:
        if ckpt["identity"] != self.identity:
            diff = sorted(k for k in set(ckpt["identity"]) | set(self.identity)
                          if ckpt["identity"].get(k) != self.identity.get(k))
            raise ValueError(f"{self.out_dir / LAST} belongs to a different run (differs in {diff}); "
                             f"use another --out or start without --resume")
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.scheduler.load_state_dict(ckpt["scheduler"])
        self.epoch, self.history = ckpt["epoch"], list(ckpt["history"])
        self.best_valid, self.best_epoch, self.bad_epochs = ckpt["best_valid"], ckpt["best_epoch"], ckpt["bad_epochs"]
        self.best_state = ckpt["best_state"]
        self.generator.set_state(ckpt["generator"])
        torch.set_rng_state(ckpt["torch_rng"])
        self._wall0 = ckpt["wall_s"]

    def done(self) -> bool:
        return self.epoch >= self.config.epochs or self.bad_epochs >= self.config.patience

    def _loss(self, graphs, train: bool) -> float:
        from torch_geometric.loader import DataLoader

        loader = DataLoader(graphs, batch_size=self.config.batch_size, shuffle=train,
                            generator=self.generator if train else None)
        self.model.train(train)
        total, count = 0.0, 0
        for batch in loader:
            with torch.set_grad_enabled(train):
                loss = torch.nn.functional.mse_loss(self.model(batch), batch.y)
            if train:
                self.optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                self.optimizer.step()
            total += loss.item() * batch.num_graphs
            count += batch.num_graphs
        self.model.eval()
        return total / count

    def run_epoch(self) -> dict:
        train_mse = self._loss(self.train, True)
        valid_mse = self._loss(self.valid, False)
        self.scheduler.step(valid_mse)
        self.epoch += 1
        if valid_mse < self.best_valid:
            self.best_valid, self.best_epoch, self.bad_epochs = valid_mse, self.epoch, 0
            self.best_state = copy.deepcopy(self.model.state_dict())
        else:
            self.bad_epochs += 1
        row = {"epoch": self.epoch, "train_rmse": train_mse ** 0.5, "valid_rmse": valid_mse ** 0.5,
               "lr": self.optimizer.param_groups[0]["lr"]}
        self.history.append(row)
        if self.out_dir is not None:
            atomic_save({"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                         "scheduler": self.scheduler.state_dict(), "epoch": self.epoch, "history": self.history,
                         "best_valid": self.best_valid, "best_epoch": self.best_epoch,
                         "bad_epochs": self.bad_epochs, "best_state": self.best_state,
                         "generator": self.generator.get_state(), "torch_rng": torch.get_rng_state(),
                         "identity": self.identity, "wall_s": self.wall_s}, self.out_dir / LAST)
        return row

    @property
    def wall_s(self) -> float:
        return self._wall0 + (time.perf_counter() - self._started if self._started else 0.0)

    def finish(self) -> dict:
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        self.model.eval()
        return {"history": self.history, "best_epoch": self.best_epoch, "best_valid_rmse": self.best_valid ** 0.5,
                "epochs": self.epoch, "wall_s": self.wall_s}

    def fit(self, resume: bool = False) -> dict:
        self.start(resume)
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.config.epochs, initial=self.epoch, desc=f"train {self.model.arch}", unit="epoch")
        while not self.done():
            row = self.run_epoch()
            if bar is not None:
                bar.update(1)
                bar.set_postfix(train=f"{row['train_rmse']:.4f}", valid=f"{row['valid_rmse']:.4f}")
        if bar is not None:
            bar.close()
        return self.finish()


__all__ = ["FidelityTrainer", "FitConfig", "SPLITS", "check_holdout", "graphs_of", "metrics", "split"]
