"""The transformer decoders that ship (qec.learned.pretrained): found by code, safe to load, decode fresh shots."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from qec import codes
from qec.decoders.mwpm import MWPMDecoder
from qec.decoders.transformer import TransformerDecoder
from qec.learned import pretrained

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [(d, noise) for noise in ("code-capacity", "phenomenological", "circuit") for d in (3, 5)]


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def test_six_small_models_ship():
    models = pretrained.shipped()
    assert sorted((m["distance"], m["noise"]) for m in models) == sorted(SHIPPED)
    for m in models:
        assert m["rounds"] == (1 if m["noise"] == "code-capacity" else m["distance"])
        assert m["basis"] == ("zx" if m["noise"] == "code-capacity" else "z")
        assert m["path"].stat().st_size < 400_000
        assert "optimizer" not in torch.load(m["path"], weights_only=True)


@pytest.mark.parametrize("distance, noise", SHIPPED)
def test_a_shipped_model_decodes_fresh_shots(distance, noise):
    decoder = TransformerDecoder.pretrained(distance, noise)
    p = decoder.code["p"][0]  # the smaller training p (the one docs/qec.md compares at)
    circuit = codes.surface_code(distance, p, noise=noise, basis=decoder.code["basis"])
    dets, obs = circuit.compile_detector_sampler(seed=12345).sample(2000, separate_observables=True)
    failed = lambda flips: float(np.mean(np.any(flips != obs, axis=1)))  # noqa: E731
    ler, mwpm = failed(decoder.decode_batch(dets)), failed(MWPMDecoder.from_circuit(circuit).decode_batch(dets))
    assert ler < 0.5 * float(np.mean(obs.any(axis=1)))  # at most half the failures of not decoding at all
    if distance == 3:  # measured on 1e5 shots (docs/qec.md): 0.91x-1.13x MWPM's LER
        assert ler < 1.5 * mwpm + 0.005


def test_pretrained_builds_from_a_given_circuit_and_p():
    circuit = codes.surface_code(3, 0.002, noise="circuit")
    decoder = TransformerDecoder.pretrained(3, "circuit", circuit=circuit, mode="hybrid")
    assert decoder.mode == "hybrid" and decoder.num_detectors == circuit.num_detectors
    assert TransformerDecoder.pretrained(3, "circuit", p=0.001).decode_batch(np.zeros((2, 24), bool)).shape == (2, 1)
    with pytest.raises(ValueError, match="another code"):  # d=3 circuit model, d=3 phenomenological detectors
        TransformerDecoder.pretrained(3, "circuit", circuit=codes.surface_code(3, 0.01, noise="phenomenological",
                                                                              rounds=2))


@pytest.mark.parametrize("args, kwargs", [((7, "circuit"), {}), ((3, "code-capacity-bitflip"), {}),
                                          ((3, "circuit"), {"basis": "x"}), ((3, "code-capacity"), {"basis": "z"}),
                                          ((5, "phenomenological"), {"rounds": 3})])
def test_no_shipped_model_names_what_ships(args, kwargs):
    with pytest.raises(ValueError, match=r"no shipped transformer decoder .* shipped: circuit \(basis z\): "
                                         r"d=3 \(3 rounds\), d=5 \(5 rounds\); code-capacity \(basis zx\): d=3"):
        TransformerDecoder.pretrained(*args, **kwargs)


def test_loading_a_shipped_model_does_not_import_the_training_loop():
    code = ("import sys; from qec.decoders.transformer import TransformerDecoder; "
            "TransformerDecoder.pretrained(3, 'circuit'); print(' '.join(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert "qec.learned.pretrained" in loaded
    assert not {"qec.learned.train", "qec.learned.sampling"} & loaded


def test_export_leaves_out_the_optimizer_and_halves_the_weights(tmp_path):
    from qec.learned.train import TrainConfig, train
    circuit = codes.surface_code(3, 0.05, noise="code-capacity", basis="zx")
    code = {"distance": 3, "rounds": 1, "basis": "zx", "noise": "code-capacity", "p": [0.05]}
    train([circuit], code, TrainConfig(steps=2, batch_size=16, d_model=16, heads=2, layers=1, progress=False),
          checkpoint=str(tmp_path / "full.pt"))
    shipped = pretrained.export(tmp_path / "full.pt", tmp_path / "small.pt")
    ckpt = torch.load(shipped, weights_only=True)
    assert "optimizer" not in ckpt and ckpt["code"] == code
    assert {t.dtype for t in ckpt["model"].values() if t.is_floating_point()} == {torch.float16}
    dets = circuit.compile_detector_sampler(seed=1).sample(300)
    full = TransformerDecoder.from_circuit(circuit, checkpoint=str(tmp_path / "full.pt"))
    small = TransformerDecoder.from_circuit(circuit, checkpoint=str(shipped))
    assert np.mean(full.decode_batch(dets) == small.decode_batch(dets)) > 0.98
