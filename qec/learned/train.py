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
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import stim
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from qec.learned.layout import CodeLayout
from qec.learned.model import DetectorTransformer
from qec.learned.sampling import FrameSampler

CHECKPOINT_FORMAT = 3


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


def pick_device(device: str | None = None) -> torch.device:
    """The requested device, else CUDA when present, else CPU."""
    return torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))


def save_checkpoint(state: TrainState, path: str | os.PathLike) -> None:
    """Write the checkpoint through a temporary file and ``os.replace`` (never half-written).

    qec imports nothing from qml (DESIGN.md), so this is qec's own copy of ``qml.files.atomic_path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(state.to_checkpoint(), tmp)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Load a checkpoint safely (``weights_only=True``); a clear error if it is not one of ours."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ValueError(f"checkpoint {path} does not exist") from None
    except Exception as err:
        raise ValueError(f"{path} is not a readable checkpoint: {err}") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a transformer-decoder checkpoint (format {CHECKPOINT_FORMAT})")
    return ckpt


def model_from_checkpoint(ckpt: dict, device: str | None = None) -> DetectorTransformer:
    """The trained model of a checkpoint, bound to the layout it was trained on."""
    model = DetectorTransformer(**ckpt["model_config"]).to(pick_device(device))
    model.load_state_dict(ckpt["model"])
    model.bind(CodeLayout.from_dict(ckpt["layout"]))
    return model


def describe_code(code: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in code.items())


def check_same_code(ckpt: dict, layout: CodeLayout, code: dict | None = None) -> None:
    """Raise a ValueError naming the difference if a checkpoint was trained for another code."""
    trained = CodeLayout.from_dict(ckpt["layout"])
    problem = trained.mismatch(layout)
    structural = ("distance", "rounds", "basis", "noise")
    if problem is None and code is not None:
        diffs = [k for k in structural if k in code and k in ckpt["code"] and code[k] != ckpt["code"][k]]
        problem = ", ".join(f"{k}={code[k]} instead of {ckpt['code'][k]}" for k in diffs) or None
    if problem:
        raise ValueError(f"the checkpoint was trained for another code ({describe_code(ckpt['code'])}): "
                         f"this one has {problem}")


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


def train(circuits: list[stim.Circuit], code: dict, cfg: TrainConfig, *, checkpoint: str | None = None,
          resume: bool = False, init_from: str | None = None, device: str | None = None) -> TrainState:
    """Train (or resume, or fine-tune from ``init_from``) on batches sampled from ``circuits``.

    ``code`` describes the code (distance, rounds, basis, noise, p); it goes into the
    checkpoint so that loading it for another code fails clearly.
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
    samplers = [FrameSampler(c, layout, state.model.matching_prior) for c in circuits]
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
