"""QOC: parameter-shift gradients from the device, gradient pruning, on-chip training and resume."""

import dataclasses
import math

import pytest
import torch

import qml
from noise.onchip import GradientPruner, OnChipQNN, circuits_per_step, shift_jacobian
from noise.program import density_expectations
from qml.data import TaskData
from qml.layers import Encoder, build_space
from qml.model import QNN, MultiNodeQNN, ry_encoder
from qml.train import TrainConfig, Trainer

CIRCUIT = (qml.Circuit(2).ry(0, qml.Input(0)).rx(1, qml.Input(1)).u3(0, "a", "b", "c").cu3(0, 1, "d", "e", "f")
           .crx(1, 0, 0.5 * qml.Param("g") + 0.2).ry(1, "a"))
PARAMS = torch.tensor([0.3, -0.7, 1.1, 0.9, 0.4, -1.3, 0.8], dtype=torch.float64)
INPUTS = torch.tensor([[0.2, 1.0], [1.4, -0.5]], dtype=torch.float64)


def exact_jacobians(device):
    """d<Z>/dparams and d<Z>/dinputs of the exact noisy expectations (density mode, autograd)."""
    p, x = PARAMS.clone().requires_grad_(True), INPUTS.clone().requires_grad_(True)
    z = density_expectations(CIRCUIT, device, p, x, mapping=[1, 2], dtype=torch.complex128)
    jp = torch.zeros(2, 2, 7, dtype=torch.float64)
    jx = torch.zeros(2, 2, 2, dtype=torch.float64)
    for b in range(2):
        for w in range(2):
            gp, gx = torch.autograd.grad(z[b, w], (p, x), retain_graph=True)
            jp[b, w], jx[b, w] = gp, gx[b]
    return z.detach(), jp, jx


def test_device_gradients_agree_with_exact_noisy_gradients(santiago):
    z_ref, jp_ref, jx_ref = exact_jacobians(santiago)
    # exact device expectations: the shifted circuits reproduce the noisy gradient (a CU3's phi,
    # spread over rz gates with noisy CNOTs between them, keeps a bias of ~2e-4)
    z, jp, jx, runs = shift_jacobian(CIRCUIT, santiago, PARAMS, INPUTS, wrt_inputs=True, shots=None, mapping=[1, 2])
    assert runs == 2 * (1 + 2 + 2 + 6 + 4 + 2 + 2 + 4 + 2)   # inputs, u3, cu3 (4-term theta), crx, ry(a)
    assert (z - z_ref).abs().max() < 1e-6
    assert (jp - jp_ref).abs().max() < 1e-3
    assert (jx - jx_ref).abs().max() < 1e-6
    # with shots: within shot noise (per term sd <= 1/sqrt(shots); a gradient's sd <= ~0.7/sqrt(shots))
    shots = 100_000
    z, jp, jx, _ = shift_jacobian(CIRCUIT, santiago, PARAMS, INPUTS, wrt_inputs=True, shots=shots, mapping=[1, 2],
                                  seed=3)
    bound = 5 * 0.75 / math.sqrt(shots) + 1e-3
    assert (jp - jp_ref).abs().max() < bound
    assert (jx - jx_ref).abs().max() < bound


def test_a_mask_shifts_only_the_chosen_parameters(santiago):
    mask = torch.tensor([False, False, False, True, False, False, False])      # "d": cu3's theta
    z, jp, jx, runs = shift_jacobian(CIRCUIT, santiago, PARAMS, INPUTS, wrt_params=mask, shots=None, mapping=[1, 2])
    assert runs == 2 * (1 + 4) and jx is None
    assert (jp[:, :, ~mask] == 0).all() and (jp[:, :, mask] != 0).any()


def test_pruner_draws_in_proportion_to_the_accumulated_gradient():
    weights = torch.tensor([1.0, 2.0, 3.0, 4.0])
    pruner = GradientPruner(4, ratio=0.75, accumulate=1, prune=10_000, seed=1)   # keep 1 of 4
    pruner.record(weights)
    pruner.advance()
    counts = torch.zeros(4)
    draws = 4000
    for _ in range(draws):
        counts += pruner.mask().float()
        pruner.advance()
    expected = weights / weights.sum()
    sd = torch.sqrt(expected * (1 - expected) / draws)
    assert ((counts / draws - expected).abs() < 4 * sd).all(), counts / draws


def test_the_accumulator_is_kept_through_the_pruning_window_and_reset_after():
    pruner = GradientPruner(3, ratio=0.5, accumulate=2, prune=2, seed=0)
    pruner.record(torch.tensor([1.0, 0.0, 2.0])); pruner.advance()
    pruner.record(torch.tensor([1.0, 0.0, 2.0])); pruner.advance()
    assert not pruner.accumulating
    pruner.record(torch.tensor([100.0, 100.0, 100.0]))      # a pruning step: not accumulated
    assert pruner.accumulated.tolist() == [2.0, 0.0, 4.0]
    for _ in range(2):                                       # never the zero-gradient parameter
        assert pruner.mask().tolist()[1] is False
        pruner.advance()
    assert pruner.accumulating                               # the next accumulation window resets it
    pruner.record(torch.tensor([0.0, 5.0, 0.0]))
    assert pruner.accumulated.tolist() == [0.0, 5.0, 0.0]


@pytest.mark.parametrize("kwargs, message", [
    (dict(ratio=1.0), "ratio r must be in \\[0, 1\\)"), (dict(ratio=-0.1), "ratio r must be in"),
    (dict(accumulate=0), "accumulation window must be a positive"), (dict(prune=0), "pruning window must be"),
])
def test_bad_pruning_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GradientPruner(4, **kwargs)


def tiny_task(n=12, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 2, generator=gen) * math.pi
    y = (x[:, 0] > x[:, 1]).long()
    return TaskData("tiny", x, y, x[:4], y[:4], x[:4], y[:4], ("a", "b"), "synthetic", "ry2", 2)


def tiny_model(seed=0):
    return QNN(2, Encoder("ry2", (("ry", (0,), (0,)), ("ry", (1,), (1,)))), build_space("u3cu3", 2, 1),
               n_classes=2, seed=seed)


def train(out_dir, epochs, pruner=None, resume=False, kill_after=None):
    data = tiny_task()
    qnn = tiny_model()
    if pruner is not None:
        pruner = GradientPruner(len(qnn.names), *pruner, seed=0)
    from noise.devices import Device
    model = OnChipQNN(qnn, Device.from_name("santiago"), shots=256, pruner=pruner, mapping=[0, 1])
    trainer = Trainer(model, data, TrainConfig(epochs=epochs, batch_size=4, lr=0.1, seed=0), out_dir,
                      progress=False)
    model.attach(trainer.optimizer)
    trainer.start(resume)
    while not trainer.done and (kill_after is None or trainer.epoch < kill_after):
        trainer.run_epoch()
    return model, trainer


def test_pruned_training_runs_the_circuits_of_the_formula(tmp_path):
    model, trainer = train(tmp_path, 1, pruner=(0.5, 1, 2))     # 3 steps: accumulate, prune, prune
    qnn = model.model
    assert int(model.steps) == 3
    # the pruning steps drew from the accumulator of step 0 (kept since), seeded by the step
    replay = GradientPruner(len(qnn.names), 0.5, 1, 2, seed=0)
    replay.accumulated.copy_(model.pruner.accumulated)
    full = circuits_per_step(qnn, 4)
    expected = full
    for step in (1, 2):
        replay.step.fill_(step)
        mask = replay.mask()
        assert int(mask.sum()) == 6                                # (1 - r) N of N = 12
        expected += circuits_per_step(qnn, 4, mask)
    assert int(model.circuits) == expected == trainer.history[0]["circuits"]
    assert trainer.history[0]["shots"] == expected * 256
    # about the formula: B (1 + T (w_a + w_p (1 - r)) / (w_a + w_p)) per step, T the shift terms
    terms = full // 4 - 1
    formula = 3 * 4 * (1 + terms * (1 + 2 * 0.5) / 3)
    assert abs(expected / formula - 1) < 0.25


def test_a_pruned_step_updates_only_what_it_shifted(tmp_path):
    model, trainer = train(None, 1, pruner=(0.5, 1, 10))
    data = tiny_task()
    for group in trainer.optimizer.param_groups:     # the finished schedule ended at lr 0
        group["lr"] = 0.1
    before = model.model.weights.detach().clone()
    model.train()
    out = model(data.x_train[:4])
    mask = model._mask.clone()
    loss = torch.nn.functional.nll_loss(out, data.y_train[:4])
    trainer.optimizer.zero_grad()
    loss.backward()
    trainer.optimizer.step()
    after = model.model.weights.detach()
    assert (after[~mask] == before[~mask]).all()
    assert (after[mask] != before[mask]).any()


def test_resume_after_a_kill_gives_the_uninterrupted_run(tmp_path):
    full, reference = train(tmp_path / "full", 2, pruner=(0.5, 1, 2))
    train(tmp_path / "killed", 2, pruner=(0.5, 1, 2), kill_after=1)
    resumed, trainer = train(tmp_path / "killed", 2, pruner=(0.5, 1, 2), resume=True)
    assert torch.equal(full.model.weights, resumed.model.weights)
    assert torch.equal(full.pruner.accumulated, resumed.pruner.accumulated)
    assert int(full.circuits) == int(resumed.circuits)
    assert [h["circuits"] for h in trainer.history] == [h["circuits"] for h in reference.history]


def test_multi_node_gradients_flow_through_the_second_nodes_inputs(santiago):
    nodes = [QNN(2, Encoder("ry2", (("ry", (0,), (0,)), ("ry", (1,), (1,)))), build_space("u3cu3", 2, 1),
                 readout=None, seed=0),
             QNN(2, ry_encoder(2), build_space("u3cu3", 2, 1), n_classes=2, seed=1)]
    model = OnChipQNN(MultiNodeQNN(nodes), santiago, shots=4096, mapping=[0, 1])
    x, y = tiny_task().x_train[:3], tiny_task().y_train[:3]
    torch.nn.functional.nll_loss(model(x), y).backward()
    assert nodes[0].weights.grad is not None and nodes[0].weights.grad.abs().sum() > 0
    assert nodes[1].weights.grad.abs().sum() > 0


def test_bad_model_and_shots(santiago):
    with pytest.raises(ValueError, match="shots must be a positive integer"):
        OnChipQNN(tiny_model(), santiago, shots=0)
    with pytest.raises(ValueError, match="the pruner is for 3 parameters"):
        OnChipQNN(tiny_model(), santiago, pruner=GradientPruner(3))
    with pytest.raises(ValueError, match="expected a qml.model.QNN"):
        OnChipQNN(torch.nn.Linear(2, 2), santiago)


def test_cli_smoke(tmp_path, capsys):
    from benchmarks.cli import main

    args = ["onchip", "--task", "digits4", "--device", "santiago", "--train-samples", "8", "--epochs", "1",
            "--batch-size", "8", "--test-samples", "8", "--shots", "64", "--eval-shots", "64", "--prune", "0.5",
            "--out", str(tmp_path / "out"), "--json", str(tmp_path / "r.json"), "--no-progress"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "on-chip pruned r=0.5" in text and (tmp_path / "out" / "onchip.png").exists()
    assert main(args + ["--resume"]) == 0                     # finished runs are read back
    assert main(["onchip", "--prune", "1.5", "--out", str(tmp_path / "o2")]) == 2
    assert "ratio r must be in [0, 1)" in capsys.readouterr().err


def test_train_records_nothing_extra_for_plain_models():
    data = dataclasses.replace(tiny_task())
    result = Trainer(tiny_model(), data, TrainConfig(epochs=1, batch_size=4), progress=False).fit()
    assert "circuits" not in result["history"][0]
