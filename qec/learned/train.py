"""Training of the detector transformer on samples drawn on the fly, with atomic checkpoints.

The loss mixes the global loss (observable flips) and the local loss (X/Z error on each data
qubit), ``loss = bce(obs) + local_weight * bce(errors)``. Every step draws a fresh batch from
stim with seed ``(seed, step)``, so a resumed run sees exactly the batches the uninterrupted
run would have seen. Training circuits may differ in noise strength but share one layout.

>>> import stim, torch
>>> c = stim.Circuit.generated("surface_code:rotated_memory_z", distance=3, rounds=1,
...                            before_round_data_depolarization=0.05)
>>> cfg = TrainConfig(steps=3, batch_size=64, d_model=32, layers=1, progress=False)
>>> state = train([c], {"distance": 3, "rounds": 1, "basis": "z", "noise": "code-capacity"}, cfg)
>>> state.step, len(state.history)
(3, 1)
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import stim
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from qec.learned.checkpoint import (CHECKPOINT_FORMAT, check_same_code, describe_code,  # noqa: F401
                                    load_checkpoint, model_from_checkpoint, pick_device)
from qec.learned.checkpoint import save_checkpoint as _save
from qec.learned.layout import CodeLayout
from qec.learned.model import DetectorTransformer
from qec.learned.sampling import FrameSampler


@dataclass
class TrainConfig:
    """Hyperparameters of a training run (model size, optimisation, loss weights, budget)."""

    steps: int = 2000
    batch_size: int = 256
    lr: float = 1e-3
    warmup: int = 100
    local_weight: float = 0.5
    d_model: int = 64
    heads: int = 4
    layers: int = 3
    ff_mult: int = 2
    matching_prior: bool = False
    local_attention: bool = False
    line_readout: bool = False
    seed: int = 0
    checkpoint_every: int = 100
    log_every: int = 50
    progress: bool = True


@dataclass
class TrainState:
    """A model, its optimizer and where training stands (what a checkpoint holds)."""

    model: DetectorTransformer
    optimizer: torch.optim.Optimizer
    code: dict
    config: TrainConfig
    step: int = 0
    history: list = field(default_factory=list)
    init_from: str | None = None

    def to_checkpoint(self) -> dict:
        return {"format": CHECKPOINT_FORMAT, "model_config": self.model.config,
                "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "code": self.code, "layout": self.model.layout.to_dict(), "train_config": asdict(self.config),
                "step": self.step, "history": self.history, "init_from": self.init_from}


def save_checkpoint(state: TrainState, path: str | os.PathLike) -> None:
    """Write the training state's checkpoint atomically (through :mod:`qml.files`)."""
    _save(state.to_checkpoint(), path)


def _lr_factor(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup:
        return (step + 1) / cfg.warmup
    frac = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))


def new_state(layout: CodeLayout, code: dict, cfg: TrainConfig, device: str | None = None,
              init_from: str | None = None) -> TrainState:
    """A fresh model (or one initialised from another code's checkpoint: transfer)."""
    torch.manual_seed(cfg.seed)
    src = None if init_from is None else load_checkpoint(init_from)
    if src is not None:  # the source's architecture wins; a matching prior may be added
        source = {"matching_prior": False, "local_attention": False, "line_readout": False, **src["model_config"]}
        for key in ("d_model", "heads", "layers", "ff_mult", "local_attention", "line_readout"):
            setattr(cfg, key, source[key])
        cfg.matching_prior = cfg.matching_prior or source["matching_prior"]
    model = DetectorTransformer(cfg.d_model, cfg.heads, cfg.layers, cfg.ff_mult, cfg.matching_prior,
                                cfg.local_attention, cfg.line_readout)
    if src is not None:
        missing, unexpected = model.load_state_dict(src["model"], strict=False)
        if unexpected or any(not key.startswith("prior_") for key in missing):
            raise ValueError(f"{init_from} does not fit this model: missing {missing}, unexpected {unexpected}")
    model.to(pick_device(device))
    model.bind(layout)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    return TrainState(model, optimizer, code, cfg, init_from=None if init_from is None else str(init_from))


def resume_state(path: str | os.PathLike, layout: CodeLayout, code: dict, cfg: TrainConfig,
                 device: str | None = None) -> TrainState:
    """The training state saved at ``path``; its model and step; ``cfg.steps`` may extend the run."""
    ckpt = load_checkpoint(path)
    check_same_code(ckpt, layout, code)
    saved = TrainConfig(**ckpt["train_config"])
    saved.steps, saved.progress, saved.checkpoint_every = cfg.steps, cfg.progress, cfg.checkpoint_every
    model = model_from_checkpoint(ckpt, device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=saved.lr, weight_decay=1e-4)
    optimizer.load_state_dict(ckpt["optimizer"])
    return TrainState(model, optimizer, ckpt["code"], saved, ckpt["step"], list(ckpt["history"]),
                      ckpt.get("init_from"))


def mwpm_prior(circuit: stim.Circuit) -> Callable[[np.ndarray], np.ndarray]:
    """MWPM's observable flips for detection events of ``circuit``: the matching prior."""
    from qec.decoders.mwpm import MWPMDecoder  # a decoder, imported only when a prior is wanted

    return MWPMDecoder.from_circuit(circuit).decode_batch


def train(circuits: list[stim.Circuit], code: dict, cfg: TrainConfig, *, checkpoint: str | None = None,
          resume: bool = False, init_from: str | None = None, device: str | None = None,
          prior: Callable[[stim.Circuit], Callable[[np.ndarray], np.ndarray]] = mwpm_prior) -> TrainState:
    """Train (or resume, or fine-tune from ``init_from``) on batches sampled from ``circuits``.

    ``code`` describes the code (distance, rounds, basis, noise, p); it goes into the
    checkpoint so that loading it for another code fails clearly. A matching-prior model gets
    ``prior(circuit)(dets)`` with every batch (default: MWPM's observable flips).
    """
    if not circuits:
        raise ValueError("need at least one training circuit")
    if resume and init_from:
        raise ValueError("use either resume or init_from, not both")
    layout = CodeLayout.from_circuit(circuits[0])
    for c in circuits[1:]:
        problem = layout.mismatch(CodeLayout.from_circuit(c))
        if problem:
            raise ValueError(f"training circuits must share one layout; one has {problem}")
    if resume:
        if checkpoint is None or not Path(checkpoint).exists():
            raise ValueError(f"cannot resume: no checkpoint at {checkpoint}")
        state = resume_state(checkpoint, layout, code, cfg, device)
    else:
        state = new_state(layout, code, cfg, device, init_from)
    samplers = [FrameSampler(c, layout, prior(c) if state.model.matching_prior else None) for c in circuits]
    run_steps(state, samplers, checkpoint)
    return state


def run_steps(state: TrainState, samplers: list[FrameSampler], checkpoint: str | None) -> None:
    cfg, model, opt = state.config, state.model, state.optimizer
    device = model.type_emb.weight.device
    model.train()
    window: list[tuple[float, ...]] = []
    bar = tqdm(total=cfg.steps, initial=state.step, disable=not cfg.progress, desc="train", unit="step")
    while state.step < cfg.steps:
        step = state.step
        batch = samplers[step % len(samplers)].sample(cfg.batch_size, seed=cfg.seed * 1_000_003 + step)
        dets = torch.as_tensor(batch.dets, device=device)
        obs = torch.as_tensor(batch.obs, dtype=torch.float32, device=device)
        errors = torch.as_tensor(batch.errors, dtype=torch.float32, device=device)
        prior = None if batch.prior is None else torch.as_tensor(batch.prior, device=device)
        obs_logits, err_logits = model(dets, prior)
        global_loss = F.binary_cross_entropy_with_logits(obs_logits, obs)
        local_loss = F.binary_cross_entropy_with_logits(err_logits, errors)
        loss = global_loss + cfg.local_weight * local_loss
        for group in opt.param_groups:
            group["lr"] = cfg.lr * _lr_factor(step, cfg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        wrong = ((obs_logits > 0) != (obs > 0.5)).any(dim=1).float().mean()
        window.append((loss.item(), global_loss.item(), local_loss.item(), wrong.item()))
        state.step += 1
        bar.update(1)
        if len(window) == cfg.log_every or state.step == cfg.steps:
            mean = [float(v) for v in np.mean(window, axis=0)]
            state.history.append({"step": state.step, "loss": mean[0], "global": mean[1], "local": mean[2],
                                  "batch_ler": mean[3]})
            bar.set_postfix(loss=f"{mean[0]:.4f}", ler=f"{mean[3]:.4f}")
            window.clear()
        if checkpoint and (state.step % cfg.checkpoint_every == 0 or state.step == cfg.steps):
            save_checkpoint(state, checkpoint)
    bar.close()
