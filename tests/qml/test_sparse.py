"""QuantumSEA (qml.nas.sparse): the budget, prune and grow, identity growth, export, bad input,
kill and resume, and the ``qml-bench sea`` command."""

import json

import pytest
import torch

from qml.data import load_task
from qml.gates import get_gate
from qml.layers import build_space
from qml.model import QNN
from qml.nas.sparse import SparseQNN, gate_angles
from qml.train import TrainConfig, Trainer

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data():
    return load_task("digits4")


def _model(density=0.5, every=2, total_steps=20, blocks=2, **kw):
    qnn = QNN(4, "4x4_ryzxy", build_space("u3cu3", 4, blocks), n_classes=4, seed=0)
    return SparseQNN(qnn, density, every, total_steps=total_steps, **kw)


def _trainer(model, data, out=None, epochs=3, on_epoch=None):
    t = Trainer(model, data, TrainConfig(epochs=epochs, batch_size=128, lr=0.05, seed=0), out,
                progress=False, on_epoch=on_epoch, identity={"density": model.density})
    model.attach(t.optimizer)
    return t


def test_budget_stays_constant_across_swaps(data):
    model = _model(swap_frac=0.5, total_steps=3 * 4)
    masks = []
    _trainer(model, data, on_epoch=lambda h: masks.append(h[-1]["mask"])).fit()
    assert int(model.swaps) > 0 and len(set(masks)) > 1          # the mask did change
    assert all(m.count("1") == model.budget == 8 for m in masks)
    assert int(model.gate_mask.sum()) == 8


def test_prune_takes_the_least_salient_and_grow_the_largest_average():
    model = _model()
    on = model.active()
    off = [g for g in range(model.n_gates) if g not in on]
    with torch.no_grad():
        model.qnn.weights.fill_(1.0)
        model.last_grad.fill_(1.0)
        for g in on[:2]:                     # two active gates of small |angle * grad|
            model.qnn.weights[list(model.gates[g])] = 0.01
        model.last_grad[list(model.gates[on[5]])] = 0.001
        model.ema.zero_()
        model.ema[off[3]], model.ema[off[6]] = 5.0, 2.0
    sal = model.saliency()
    assert sorted(on, key=lambda g: sal[g])[:3] == sorted([on[0], on[1], on[5]], key=lambda g: sal[g])
    pruned, grown = model.swap(3)
    assert sorted(pruned) == sorted([on[0], on[1], on[5]])
    assert grown[:2] == [off[3], off[6]] and len(grown) == 3
    assert int(model.gate_mask.sum()) == model.budget


def test_grown_gates_start_as_the_identity():
    model = _model()
    with torch.no_grad():
        model.ema.copy_(torch.arange(model.n_gates, dtype=torch.float32))
        model.qnn.weights.fill_(0.7)
    _, grown = model.swap(2)
    for g in grown:
        angles = model.qnn.weights[list(model.gates[g])]
        assert torch.all(angles == 0)
    for name in ("u3", "cu3"):
        gate = get_gate(name)
        m = gate.matrix(torch.zeros(gate.n_params))
        assert torch.allclose(m, torch.eye(m.shape[-1], dtype=m.dtype))


def test_inactive_gates_get_the_gradient_of_growing_them(data):
    model = _model()
    model.train()
    out = model(data.x_train[:32])
    torch.nn.functional.nll_loss(out, data.y_train[:32]).backward()
    per_gate = model.per_gate(model.last_grad)
    off = [g for g in range(model.n_gates) if g not in model.active()]
    assert all(per_gate[g] > 0 for g in off)                      # the grow signal exists
    assert torch.all(model.qnn.weights.grad[model.angle_mask() == 0] == 0)   # but they do not train
    assert int(model.step) == 1


def test_exported_circuit_has_exactly_the_budget():
    for density, expected in ((0.5, 8), (0.25, 4), (1.0, 16), (0.01, 1)):
        model = _model(density)
        ansatz = model.ansatz()
        assert len(ansatz.gates) == model.budget == expected
        assert set(ansatz.parameters) == set(model.param_dict())
    model = _model()
    model.swap(3)
    assert len(model.ansatz().gates) == 8
    c = model.circuit()
    assert c.parameters == () and c.n_inputs == 16


def test_gate_angles_are_whole_gates():
    c = build_space("u3cu3", 4, 1)
    assert gate_angles(c, c.parameters) == [tuple(range(3 * i, 3 * i + 3)) for i in range(8)]


@pytest.mark.parametrize("density", [0, -0.5, 1.5, float("nan"), "half", True])
def test_a_density_outside_0_1_is_refused(density):
    with pytest.raises(ValueError, match=r"density .* must be in \(0, 1\]"):
        _model(density)


@pytest.mark.parametrize("every", [0, -3, 2.5])
def test_a_swap_interval_below_one_is_refused(every):
    with pytest.raises(ValueError, match="swap interval k .* positive integer"):
        _model(every=every)


def test_other_bad_settings_are_refused():
    with pytest.raises(ValueError, match="swap_frac"):
        _model(swap_frac=1.5)
    with pytest.raises(ValueError, match="ema"):
        _model(ema=1.0)
    with pytest.raises(ValueError, match="budget"):
        _model(mask=[1] * 16)


def test_killed_training_resumes_to_the_same_result(data, tmp_path):
    whole = _model(total_steps=12)
    _trainer(whole, data, tmp_path / "a").fit()

    def kill(history):
        if len(history) == 2:
            raise KeyboardInterrupt
    first = _model(total_steps=12)
    with pytest.raises(KeyboardInterrupt):
        _trainer(first, data, tmp_path / "b", on_epoch=kill).fit()
    resumed = _model(total_steps=12)
    _trainer(resumed, data, tmp_path / "b").fit(resume=True)
    assert int(whole.swaps) > 0
    assert torch.equal(resumed.gate_mask, whole.gate_mask)
    assert torch.equal(resumed.qnn.weights, whole.qnn.weights)
    assert int(resumed.swaps) == int(whole.swaps)


def test_cli_smoke_and_bad_density(tmp_path, capsys):
    from benchmarks.cli import main

    out, record = tmp_path / "run", tmp_path / "r.json"
    args = ["sea", "--task", "digits4", "--device", "santiago", "--blocks", "1", "--epochs", "2",
            "--every", "2", "--random", "1", "--test-samples", "20", "--no-progress", "--out", str(out)]
    assert main([*args, "--density", "0.5", "--json", str(record)]) == 0
    rows = json.loads(record.read_text())["rows"]
    models = [r["model"] for r in rows]
    assert models[:2] == ["QuantumSEA", "human"] and any(m.startswith("random") for m in models)
    assert all(r["gates"] == 4 for r in rows[:3])
    assert all(0 <= r["device_acc"] <= 1 for r in rows[:3])
    assert (out / "sea.png").exists()
    assert main([*args, "--density", "0.5"]) == 2                 # holds runs: needs --resume
    assert main([*args, "--density", "0.5", "--resume"]) == 0     # finished results reused
    capsys.readouterr()
    assert main([*args, "--density", "1.5", "--out", str(tmp_path / "bad")]) == 2
    assert "density" in capsys.readouterr().err
    assert main([*args, "--every", "0", "--out", str(tmp_path / "bad")]) == 2


def test_sparse_vqe_keeps_the_budget_and_reaches_h2():
    from qml.nas.sparse import sparse_vqe
    from qml.vqe import load_hamiltonian

    h2 = load_hamiltonian("h2")
    result = sparse_vqe(h2, build_space("u3cu3", 2, 2), 0.5, steps=60, lr=0.1, every=3)
    assert result["gates"] == 4 and result["mask"].count("1") == 4 and result["swapped"] > 0
    assert result["energy"] < h2.hartree_fock_energy() + 1e-6
    with pytest.raises(ValueError, match="density"):
        sparse_vqe(h2, build_space("u3cu3", 2, 2), 0.0)


def test_cli_vqe_smoke(tmp_path):
    from benchmarks.cli import main

    record = tmp_path / "h2.json"
    assert main(["sea", "--task", "h2", "--blocks", "1", "--steps", "5", "--random", "1", "--out",
                 str(tmp_path / "run"), "--json", str(record)]) == 0
    rows = json.loads(record.read_text())["rows"]
    assert [r["model"] for r in rows] == ["QuantumSEA", "human", "random (seed 0)", "dense (4 gates)", "UCCSD"]
    assert main(["sea", "--task", "water", "--out", str(tmp_path / "bad")]) == 2
