"""The CUDA path agrees with the CPU path (which the other tests check against qiskit and
finite differences). Runs only where torch sees a CUDA device; CI machines have none, so
these run on a lent GPU machine (``pytest tests/test_cuda.py``)."""

import random

import numpy as np
import pytest
import torch

import qml
from qec import codes
from qec.learned.layout import CodeLayout
from qec.learned.model import DetectorTransformer
from qec.learned.train import TrainConfig, train
from tests.qml.conftest import random_circuit

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("gradient", ["autograd", "adjoint"])
def test_states_and_gradients_match_cpu(seed, gradient):
    """complex128 states within 1e-10, gradients within 1e-8, for random circuits of every gate."""
    c = random_circuit(6, 40, random.Random(seed), param=lambda i, r: qml.Param(f"t{i}"))
    torch.manual_seed(seed)
    params = torch.randn(3, len(c.parameters), dtype=torch.float64)
    weights = torch.randn(2 ** 6, dtype=torch.float64)
    results = []
    for device in ("cpu", "cuda"):
        p = params.to(device).detach().requires_grad_()  # a leaf on each device
        state = qml.simulate(c, p, dtype=torch.complex128, gradient=gradient)
        (state.abs() ** 2 @ weights.to(device)).sum().backward()
        results.append((state.cpu(), p.grad.cpu()))
    (cpu_state, cpu_grad), (gpu_state, gpu_grad) = results
    assert torch.allclose(gpu_state, cpu_state, atol=1e-10)
    assert torch.allclose(gpu_grad, cpu_grad, atol=1e-8)


def test_transformer_logits_match_cpu():
    """The decoder's logits agree within 1e-4 (float32) on random detection events."""
    layout = CodeLayout.from_circuit(codes.surface_code(3, 0.005))
    torch.manual_seed(0)
    model = DetectorTransformer(d_model=32, heads=4, layers=2).eval()
    dets = torch.as_tensor(np.random.default_rng(0).integers(0, 2, (64, layout.num_detectors)), dtype=torch.uint8)
    outputs = []
    for device in ("cpu", "cuda"):
        model.to(device).bind(layout)
        with torch.no_grad():
            outputs.append([t.cpu() for t in model(dets.to(device))])
    for cpu, gpu in zip(*outputs):
        assert torch.allclose(gpu, cpu, atol=1e-4)


def test_training_runs_on_cuda(tmp_path):
    """A short training run on CUDA lowers the loss and checkpoints a model that loads on the CPU."""
    circuit = codes.surface_code(3, 0.005)
    cfg = TrainConfig(steps=60, batch_size=128, d_model=32, layers=2, warmup=5, progress=False, log_every=20)
    path = tmp_path / "model.pt"
    state = train([circuit], {"distance": 3}, cfg, checkpoint=str(path), device="cuda")
    assert state.model.type_emb.weight.device.type == "cuda"
    assert state.history[-1]["loss"] < state.history[0]["loss"]
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    assert ckpt["step"] == 60
