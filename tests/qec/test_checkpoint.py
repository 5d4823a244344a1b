"""Decoder checkpoints: read apart from the training loop, safely, with clear errors; no import cycle."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from qec import codes
from qec.decoders.mwpm import MWPMDecoder
from qec.learned.checkpoint import load_checkpoint, pick_device
from qec.learned.sampling import FrameSampler
from qec.learned.train import TrainConfig, train

ROOT = Path(__file__).resolve().parents[2]
TINY = dict(batch_size=32, d_model=16, heads=2, layers=1, progress=False)
CC = {"distance": 3, "rounds": 1, "basis": "zx", "noise": "code-capacity"}


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_loading_a_decoder_does_not_import_the_training_loop():
    loaded = _modules_after("import qec.decoders.transformer")
    assert "qec.learned.checkpoint" in loaded
    assert not {"qec.learned.train", "qec.learned.sampling"} & loaded


def test_the_sampler_imports_no_decoder():
    loaded = _modules_after("import qec.learned.sampling, qec.learned.train")
    assert not [m for m in loaded if m.startswith("qec.decoders")]
    assert not [m for m in loaded if m.startswith("qml.") and m != "qml.files"]  # only the leaf of qml


def test_the_sampler_takes_the_prior_as_a_function():
    circuit = codes.surface_code(3, 0.05, "code-capacity", basis="zx")
    mwpm = MWPMDecoder.from_circuit(circuit)
    batch = FrameSampler(circuit, prior=mwpm.decode_batch).sample(200, seed=4)
    assert np.array_equal(batch.prior, mwpm.decode_batch(batch.dets).astype(np.uint8))
    assert FrameSampler(circuit).sample(10, seed=4).prior is None
    with pytest.raises(TypeError, match="function of the detection events"):
        FrameSampler(circuit, prior=True)


def test_training_with_a_given_prior_function():
    circuit = codes.surface_code(3, 0.05, "code-capacity", basis="zx")
    seen = []

    def prior(c):
        def flips(dets):
            seen.append(dets.shape)
            return np.zeros((len(dets), c.num_observables), dtype=np.uint8)
        return flips

    state = train([circuit], CC, TrainConfig(steps=2, matching_prior=True, **TINY), prior=prior)
    assert state.model.matching_prior and seen == [(32, 8), (32, 8)]


def test_the_checkpoint_is_readable_by_others(tmp_path):
    circuit = codes.surface_code(3, 0.05, "code-capacity", basis="zx")
    old = os.umask(0o022)
    try:
        train([circuit], CC, TrainConfig(steps=1, **TINY), checkpoint=str(tmp_path / "c.pt"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "c.pt").st_mode) == 0o644


@pytest.mark.parametrize("content, problem", [
    (b"", "is empty"), (bytes(range(256)) * 8, "not a transformer-decoder checkpoint"),
    ("qml", "not one written by 'qml-bench qec train'"), ("format-only", "it has no 'model_config'"),
])
def test_bad_checkpoints_name_the_file_and_the_problem(tmp_path, content, problem):
    path = tmp_path / "last.pt"
    if content == "qml":  # a qml-bench train checkpoint
        torch.save({"model": {}, "epoch": 2, "identity": {}, "history": []}, path)
    elif content == "format-only":
        torch.save({"format": 3}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError) as err:
        load_checkpoint(path)
    assert str(path) in str(err.value) and problem in str(err.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this torch sees a CUDA device")
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="this torch sees no CUDA device"):
        pick_device("cuda")
    with pytest.raises(ValueError, match="unknown torch device 'gpu0'"):
        pick_device("gpu0")
    assert pick_device("cpu").type == "cpu"
