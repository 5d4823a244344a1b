"""Reading and writing transformer-decoder checkpoints, apart from the training loop.

Loading a trained model (:class:`qec.decoders.transformer.TransformerDecoder`) needs only this
module and the model, never :mod:`qec.learned.train`. Files go through :mod:`qml.files`, the
one leaf of ``qml`` that ``qec`` may import: written atomically, loaded with
``weights_only=True``, and every unreadable or foreign file is a ``ValueError`` naming it.

>>> import tempfile, torch
>>> path = tempfile.mkdtemp() + "/other.pt"
>>> torch.save({"epoch": 3}, path)
>>> load_checkpoint(path)
Traceback (most recent call last):
...
ValueError: .../other.pt is not a transformer-decoder checkpoint (format 3): it is not one written by 'qml-bench qec train'
"""

from __future__ import annotations

import os

import torch

from qec.learned.layout import CodeLayout
from qec.learned.model import DetectorTransformer
from qml.files import atomic_save
from qml.files import load_checkpoint as _load

CHECKPOINT_FORMAT = 3
KIND = f"transformer-decoder checkpoint (format {CHECKPOINT_FORMAT})"
_REQUIRED = ("model_config", "model", "code", "layout", "step")


def pick_device(device: str | None = None) -> torch.device:
    """The requested device, else CUDA when present, else CPU; a ValueError if it cannot be used."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except RuntimeError:
        raise ValueError(f"unknown torch device {device!r} (e.g. cpu, cuda, cuda:1)") from None
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but this torch sees no CUDA device")
    return chosen


def save_checkpoint(ckpt: dict, path: str | os.PathLike) -> None:
    """Write a checkpoint dict atomically (a temporary file, fsync, then a rename)."""
    atomic_save(ckpt, path)


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Load a checkpoint safely (``weights_only=True``); a clear error if it is not one of ours."""
    ckpt = _load(path, kind=KIND)
    if ckpt.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a {KIND}: it is not one written by 'qml-bench qec train'")
    missing = [key for key in _REQUIRED if key not in ckpt]
    if missing:
        raise ValueError(f"{path} is not a {KIND}: it has no {', '.join(map(repr, missing))}")
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
