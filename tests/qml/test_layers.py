import numpy as np
import pytest
import torch

import qml
from qml.layers import (ENCODERS, SPACES, AmplitudeEncoder, Encoder, build_space, get_encoder,
                        random_circuit)
from qml.model import QNN

torch.set_num_threads(1)  # the suite shares two cores


def _qiskit_state(circuit: qml.Circuit) -> torch.Tensor:
    """qiskit's statevector of the exported circuit, in this package's bit order."""
    from qiskit.quantum_info import Statevector

    data = Statevector(circuit.to_qiskit()).data
    n = circuit.n_wires
    # qiskit's qubit 0 is the least significant bit: reverse the bit order of the indices
    return torch.as_tensor(data.reshape([2] * n).transpose(list(range(n))[::-1]).reshape(-1))


@pytest.mark.parametrize("name,features,wires", [("4x4_ryzxy", 16, 4), ("6x6_ryzxy", 36, 10),
                                                 ("10_ryzx", 10, 4)])
def test_builtin_encoders_match_the_papers_layout(name, features, wires):
    enc = ENCODERS[name]
    assert (enc.n_features, enc.n_wires) == (features, wires)
    gates = [g for g, _, _ in enc.ops]
    assert gates[:wires] == ["ry"] * wires and gates[wires] == "rz"
    # features are read in order, layer by layer, wire 0 first
    assert [idx[0] for _, _, idx in enc.ops] == list(range(features))


def test_encoder_errors_name_the_problem():
    with pytest.raises(ValueError, match="'4x4_ryzxy' takes 16 features.*6x6_ryzxy"):
        ENCODERS["4x4_ryzxy"].features(torch.zeros(2, 36))
    with pytest.raises(ValueError, match="must read features 0..n-1"):
        Encoder("gap", (("ry", (0,), (0,)), ("ry", (1,), (2,))))
    with pytest.raises(ValueError, match="rx takes 1 wire"):
        Encoder("bad", (("rx", (0, 1), (0,)),))
    with pytest.raises(ValueError, match="valid encoders: 4x4_ryzxy"):
        get_encoder("8x8")


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_amplitude_encoder_prepares_the_normalized_vector(n):
    enc = AmplitudeEncoder(n)
    x = torch.randn(6, 2 ** n, dtype=torch.float64, generator=torch.Generator().manual_seed(n))
    x[0, : 2 ** (n - 1)] = 0  # a zero half: the tree must not divide by zero
    x[1] = -x[1].abs()  # all negative amplitudes
    state = qml.simulate(enc.circuit(), inputs=enc.features(x), dtype=torch.complex128)
    torch.testing.assert_close(state.real, x / x.norm(dim=1, keepdim=True))
    assert state.imag.abs().max() < 1e-12


def test_amplitude_encoder_pads_and_checks():
    enc = AmplitudeEncoder(2)
    state = qml.simulate(enc.circuit(), inputs=enc.features(torch.tensor([[3.0, 4.0]])))
    torch.testing.assert_close(state.real, torch.tensor([[0.6, 0.8, 0.0, 0.0]]))
    with pytest.raises(ValueError, match="at most 4 features"):
        enc.features(torch.zeros(1, 5))


# (per-block trainable angles, gate counts) on n wires
EXPECTED = {
    "u3cu3": lambda n: 6 * n,
    "zzry": lambda n: 2 * n,
    "rxyz": lambda n: 3 * n,
    "zxxx": lambda n: 2 * n,
    "rxyzu1cu3": lambda n: 7 * n,
    "ibmbasis": lambda n: 3 * n,
}


@pytest.mark.parametrize("space", list(SPACES))
@pytest.mark.parametrize("n_wires", [4, 10])
def test_space_builds_trains_a_step_and_exports_with_the_same_state(space, n_wires):
    ansatz = build_space(space, n_wires, 2)
    assert len(ansatz.parameters) == 2 * EXPECTED[space](n_wires)
    # trains a step: a 2-class QNN on random data, one Adam step lowers the loss on that batch
    enc = Encoder(f"ry{n_wires}", tuple(("ry", (w,), (w,)) for w in range(n_wires)))
    model = QNN(n_wires, enc, ansatz, n_classes=2, seed=3)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(16, n_wires, generator=g) * 3, torch.randint(0, 2, (16,), generator=g)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(2):
        loss = torch.nn.functional.nll_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        assert torch.isfinite(model.weights.grad).all() and model.weights.grad.abs().sum() > 0
        opt.step()
        losses.append(loss.item())
    assert losses[1] < losses[0]
    # exports to qiskit with the same state (trained angles and one sample's inputs bound)
    bound = model.circuit(x[0])
    ours = qml.simulate(bound, dtype=torch.complex128)[0]
    torch.testing.assert_close(_qiskit_state(bound), ours, atol=1e-6, rtol=0)
    with torch.no_grad():
        torch.testing.assert_close(model.states(x[:1])[0].to(torch.complex128), ours,
                                   atol=1e-5, rtol=0)


def test_rxyz_layout_sqrt_h_once_and_alternating_cz():
    c = build_space("rxyz", 4, 2)
    assert [op.name for op in c.ops[:4]] == ["sh"] * 4 and c.count_ops()["sh"] == 4
    cz = [op.wires for op in c.ops if op.name == "cz"]
    assert cz == [(0, 1), (2, 3), (1, 2), (3, 0)]


def test_parameter_names_are_per_block_and_unique():
    c = build_space("u3cu3", 4, 2)
    assert c.parameters[:3] == ("b0.u3.0_0", "b0.u3.0_1", "b0.u3.0_2")
    assert len(set(c.parameters)) == len(c.parameters) == 48
    assert any(name.startswith("b1.cu3.") for name in c.parameters)


def test_random_baseline_has_the_requested_parameter_count_and_is_seeded():
    a, b = random_circuit(4, 36, seed=5), random_circuit(4, 36, seed=5)
    assert len(a.parameters) == 36 and a == b
    assert random_circuit(4, 36, seed=6) != a
    assert len(build_space("random", 10, 0, n_params=7, seed=1).parameters) == 7


def test_unknown_space_and_bad_sizes():
    with pytest.raises(ValueError, match="valid spaces: u3cu3, zzry, rxyz, zxxx, rxyzu1cu3, "
                                         "ibmbasis, random"):
        build_space("u3cx", 4, 2)
    with pytest.raises(ValueError, match="n_blocks >= 1"):
        build_space("zzry", 4, 0)
    with pytest.raises(ValueError, match="needs n_params"):
        build_space("random", 4, 2)


def test_qiskit_reference_state_helper_matches_bit_order():
    c = qml.Circuit(3).x(0)
    np.testing.assert_allclose(_qiskit_state(c).numpy(), np.eye(8)[4])
