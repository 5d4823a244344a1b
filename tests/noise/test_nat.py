"""QuantumNAT: normalization, quantization, injection training on a tiny device, device evaluation,
and the ablation command."""

import json

import pytest
import torch

from benchmarks.cli import main
from noise.devices import Device
from noise.nat import NATModel, normalize, quantize
from qml.data import load_task
from qml.layers import build_space
from qml.model import QNN, MultiNodeQNN, ry_encoder
from qml.train import TrainConfig, Trainer

from .conftest import line_device

torch.set_num_threads(1)  # the suite shares two cores


def test_normalize_standardizes_each_wire_over_the_batch():
    z = torch.randn(64, 3) * torch.tensor([0.1, 1.0, 5.0]) + torch.tensor([0.5, -1.0, 2.0])
    n = normalize(z)
    assert torch.allclose(n.mean(0), torch.zeros(3), atol=1e-5)
    assert torch.allclose(n.std(0, unbiased=False), torch.ones(3), atol=1e-3)


def test_quantize_rounds_to_levels_with_a_straight_through_gradient():
    z = torch.tensor([-5.0, -0.74, -0.1, 0.3, 0.8, 5.0], requires_grad=True)
    q = quantize(z, levels=3, limit=1.0)
    assert q.tolist() == [-1.0, -1.0, 0.0, 0.0, 1.0, 1.0]
    q.sum().backward()
    assert z.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 1.0, 0.0]        # clamped ends get no gradient
    with pytest.raises(ValueError, match="at least 2 levels"):
        quantize(z, levels=1)


def test_each_sample_gets_its_own_errors_and_training_sees_the_noise():
    device = line_device(2, gate_error=0.2, name="noisy2")
    qnn = QNN(2, ry_encoder(2), build_space("u3cu3", 2, 1), n_classes=2, seed=0)
    nat = NATModel(qnn, device, normalize=False)
    nat.train()
    x = torch.zeros(64, 2)
    z = nat._expectations(qnn, x, "inject")
    assert z.std(0).max() > 0.1                               # samples differ: per-sample draws
    assert torch.allclose(qnn.expectations(x)[0], qnn.expectations(x)[1])


def test_a_tiny_model_trains_with_injection_in_seconds():
    data = load_task("digits2")
    device = line_device(4, readout={q: (0.02, 0.04) for q in range(4)}, gate_error=0.01, name="line4")
    qnn = QNN(4, data.encoder, build_space("u3cu3", 4, 1), n_classes=2, seed=0)
    nat = NATModel(qnn, device, T=1.0, levels=5)
    before = nat.device_accuracy(data.x_test[:60], data.y_test[:60], backend="density")
    result = Trainer(nat, data, TrainConfig(epochs=2, batch_size=64, lr=0.05), progress=False).fit()
    after = nat.device_accuracy(data.x_test[:60], data.y_test[:60], backend="density")
    assert result["train_acc"] > 0.6 and after > before


def test_multi_node_models_normalize_between_nodes():
    nodes = [QNN(4, "4x4_ryzxy", build_space("u3cu3", 4, 1), readout=None, seed=0),
             QNN(4, ry_encoder(4), build_space("u3cu3", 4, 1), n_classes=2, seed=1)]
    nat = NATModel(MultiNodeQNN(nodes), Device.from_name("santiago"), levels=4)
    nat.train()
    out = nat(torch.rand(16, 16))
    assert out.shape == (16, 2) and nat.extra_loss() >= 0
    nat.eval()
    assert nat(torch.rand(16, 16)).shape == (16, 2)


@pytest.mark.parametrize("kwargs, match", [
    (dict(T=-1), "T must be a number >= 0"),
    (dict(levels=1), "at least 2 levels"),
    (dict(source="magic"), "'inject' or 'density'"),
])
def test_bad_settings_are_named(kwargs, match):
    qnn = QNN(2, ry_encoder(2), build_space("u3cu3", 2, 1), n_classes=2, seed=0)
    with pytest.raises(ValueError, match=match):
        NATModel(qnn, Device.from_name("santiago"), **kwargs)


def test_ablation_command_runs_resumes_and_writes_its_record(tmp_path, capsys):
    out, record = tmp_path / "nat", tmp_path / "nat.json"
    argv = ["nat", "--task", "digits2", "--device", "santiago", "--epochs", "1", "--test-samples", "20",
            "--backend", "density", "--out", str(out), "--json", str(record), "--no-progress"]
    assert main(argv) == 0
    rows = json.loads(record.read_text())["rows"]
    assert [r["device"] for r in rows] == ["santiago"] and 0 <= rows[0]["+norm+inject+quant"] <= 1
    assert (out / "nat.png").exists()
    assert main(argv) == 2 and "--resume" in capsys.readouterr().err
    assert main(argv + ["--resume"]) == 0                        # finished variants are read, not redone
    assert json.loads(record.read_text())["rows"] == rows
    assert main(["nat", "--device", "nowhere", "--out", str(tmp_path / "x")]) == 2
