"""RobustState: targets, fidelities, device-in-the-loop gradients, resume, CLI."""

import math

import pytest
import torch

import qml
from noise.robust_state import (StateConfig, all_bases, device_distributions, ideal_fidelity, mitigate_readout,
                                noisy_fidelity, noisy_state, shot_fidelity, target_distributions, target_state,
                                train_state)
from qml.layers import build_space


@pytest.mark.parametrize("name", ["ghz", "w", "qft", "random"])
def test_targets_are_normalized(name):
    psi = target_state(name, 3, seed=1)
    assert psi.shape == (8,) and abs(float(torch.linalg.vector_norm(psi)) - 1) < 1e-12


@pytest.mark.parametrize("target, message", [
    (torch.ones(16, dtype=torch.complex128), "not normalized"),
    (torch.ones(8, dtype=torch.complex128) / math.sqrt(8), "2\\*\\*4 = 16 amplitudes"),
])
def test_bad_targets(target, message):
    with pytest.raises(ValueError, match=message):
        train_state(build_space("u3cu3", 4, 1), target, "noise-free", config=StateConfig(steps=1), progress=False)


def test_bad_names_and_settings():
    with pytest.raises(ValueError, match="unknown target 'bell'"):
        target_state("bell", 2)
    with pytest.raises(ValueError, match="unknown training mode"):
        train_state(build_space("u3cu3", 2, 1), target_state("ghz", 2), "magic", progress=False)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        StateConfig(steps=0)


def test_shot_fidelity_is_the_exact_fidelity_for_exact_distributions():
    circuit = build_space("u3cu3", 3, 1)
    params = torch.rand(len(circuit.parameters), dtype=torch.float64)
    psi = target_state("random", 3, seed=2)
    bases = all_bases(3)
    state = qml.simulate(circuit, params, dtype=torch.complex128)[0]
    p = target_distributions(state, bases)
    assert abs(float(shot_fidelity(p, target_distributions(psi, bases), 3)) -
               float(ideal_fidelity(circuit, params, psi))) < 1e-10


def test_noisy_state_is_a_state_and_readout_mitigation_inverts_the_confusion(santiago):
    circuit = build_space("u3cu3", 3, 1)
    params = torch.rand(len(circuit.parameters), dtype=torch.float64)
    rho = noisy_state(circuit, santiago, params)
    assert abs(float(torch.trace(rho).real) - 1) < 1e-9 and torch.allclose(rho, rho.mH)
    p = torch.tensor([[0.5, 0.0, 0.0, 0.5]], dtype=torch.float64)
    readout = [(0.1, 0.2), (0.05, 0.0)]
    confused = p.reshape(2, 2)
    m0 = torch.tensor([[0.9, 0.2], [0.1, 0.8]], dtype=torch.float64)
    m1 = torch.tensor([[0.95, 0.0], [0.05, 1.0]], dtype=torch.float64)
    confused = (m0 @ confused @ m1.T).reshape(1, 4)
    assert torch.allclose(mitigate_readout(confused, readout), p)


def test_device_loop_gradient_flows_and_noise_aware_is_exact(santiago):
    circuit = build_space("u3cu3", 2, 1)
    psi = target_state("ghz", 2)
    base = train_state(circuit, psi, "noise-free", config=StateConfig(steps=60, lr=0.1), progress=False)
    f0 = float(noisy_fidelity(circuit, santiago, base["params"], psi))
    aware = train_state(circuit, psi, "noise-aware", santiago, StateConfig(steps=10, lr=0.02),
                        init=base["params"], progress=False)
    assert float(noisy_fidelity(circuit, santiago, aware["params"], psi)) >= f0
    dev = train_state(circuit, psi, "device", santiago, StateConfig(steps=2, lr=0.01, bases_per_step=3, shots=256),
                      init=base["params"], progress=False)
    assert not torch.equal(dev["params"], base["params"])          # the device's gradient moved the angles
    assert [h["circuits"] for h in dev["history"]] == [3, 3]
    p = device_distributions(circuit, santiago, base["params"], ["ZZ", "XX"], shots=64, seed=0)
    assert p.shape == (2, 4) and torch.allclose(p.sum(1), torch.ones(2, dtype=torch.float64))


def test_resume_after_a_kill_gives_the_uninterrupted_run(tmp_path, santiago):
    circuit = build_space("u3cu3", 2, 1)
    psi = target_state("w", 2)
    config = StateConfig(steps=20, lr=0.05, bases_per_step=2, shots=128)
    full = train_state(circuit, psi, "device", santiago, config, out_dir=tmp_path / "a", progress=False)
    train_state(circuit, psi, "device", santiago, StateConfig(**{**config.__dict__, "steps": 10}),
                out_dir=tmp_path / "b", progress=False)               # "killed" after its 10-step checkpoint
    with pytest.raises(ValueError, match="different run"):
        train_state(circuit, psi, "device", santiago, config, out_dir=tmp_path / "b", resume=True, progress=False)
    ckpt = torch.load(tmp_path / "b" / "last.pt", weights_only=True)
    ckpt["identity"]["steps"] = 20                                    # the same run, cut at step 10
    torch.save(ckpt, tmp_path / "b" / "last.pt")
    resumed = train_state(circuit, psi, "device", santiago, config, out_dir=tmp_path / "b", resume=True,
                          progress=False)
    assert torch.equal(full["params"], resumed["params"])


def test_cli_smoke(tmp_path, capsys):
    from benchmarks.cli import main

    args = ["robust-state", "--target", "ghz", "--qubits", "2", "--device", "santiago", "--steps", "5",
            "--aware-steps", "1", "--device-steps", "1", "--bases-per-step", "2", "--shots", "64",
            "--eval-shots", "64", "--out", str(tmp_path / "out"), "--json", str(tmp_path / "r.json"),
            "--no-progress"]
    assert main(args) == 0
    assert "ghz" in capsys.readouterr().out and (tmp_path / "out" / "robust_state.png").exists()
    assert main(["robust-state", "--target", "bell", "--out", str(tmp_path / "o2")]) == 2
    assert "unknown target 'bell'" in capsys.readouterr().err
