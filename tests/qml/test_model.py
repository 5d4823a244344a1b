import pytest
import torch

import qml
from qml.layers import SPACES, AmplitudeEncoder, build_space
from qml.model import MultiNodeQNN, QNN, Readout, ry_encoder

torch.set_num_threads(1)  # the suite shares two cores


def _model(space="u3cu3", n=4, classes=4, **kw):
    enc = "4x4_ryzxy" if n == 4 else ry_encoder(n)
    return QNN(n, enc, build_space(space, n, 2), n_classes=classes, seed=0, **kw)


def test_forward_gives_log_probabilities_from_z_expectations():
    model = _model()
    x = torch.randn(7, 16)
    out = model(x)
    assert out.shape == (7, 4)
    torch.testing.assert_close(out.exp().sum(1), torch.ones(7))
    z = qml.expval_z(qml.simulate(model.template, model.weights, x))
    torch.testing.assert_close(out, torch.log_softmax(z, 1), atol=1e-5, rtol=0)


def test_adjoint_gradient_matches_autograd():
    a, b = _model(gradient="autograd"), _model(gradient="adjoint")
    x, y = torch.randn(9, 16), torch.arange(9) % 4
    for m in (a, b):
        z = m.expectations(x)
        torch.nn.functional.nll_loss(torch.log_softmax(m.readout(z), 1), y).backward()
    torch.testing.assert_close(a.weights.grad, b.weights.grad, atol=1e-5, rtol=0)


def test_amplitude_encoder_model_simulates():
    model = QNN(3, AmplitudeEncoder(3), build_space("zzry", 3, 1), n_classes=3, seed=1)
    x = torch.randn(4, 8)
    z = model.expectations(x)
    start = x.to(torch.complex64) / x.norm(dim=1, keepdim=True)
    ref = qml.expval_z(qml.simulate(model.ansatz, model.weights, initial_state=start))
    torch.testing.assert_close(z, ref, atol=1e-5, rtol=0)


def test_readouts():
    z = torch.tensor([[0.1, 0.2, 0.3, 0.4]])
    torch.testing.assert_close(Readout(4, 2)(z), torch.tensor([[0.3, 0.7]]))
    torch.testing.assert_close(Readout(4, 4)(z), z)
    with pytest.raises(ValueError, match="cannot score 2 classes"):
        Readout(4, 2, "expz")
    with pytest.raises(ValueError, match="do not split into 3"):
        Readout(4, 3)
    with pytest.raises(ValueError, match="valid readouts: auto, expz, sum"):
        Readout(4, 4, "softmax")


def test_state_dict_round_trip_and_seeded_init():
    a, b = _model(), _model()
    torch.testing.assert_close(a.weights, b.weights)
    assert a.weights.abs().max() <= torch.pi
    c = QNN(4, "4x4_ryzxy", build_space("u3cu3", 4, 2), n_classes=4, seed=1)
    assert not torch.equal(a.weights, c.weights)
    c.load_state_dict(a.state_dict())
    x = torch.randn(3, 16)
    torch.testing.assert_close(c(x), a(x))
    assert list(a.state_dict()) == ["weights"]
    assert a.to("cpu").weights.device.type == "cpu"
    assert len(a.param_dict()) == 48 and list(a.param_dict())[0] == "b0.u3.0_0"


def test_bound_circuit_for_export():
    model = _model()
    x = torch.randn(16)
    bound = model.circuit(x)
    assert bound.parameters == () and bound.n_inputs == 0
    with torch.no_grad():
        torch.testing.assert_close(qml.simulate(bound), model.states(x[None]), atol=1e-5, rtol=0)
    symbolic = model.circuit()
    assert symbolic.parameters == () and symbolic.n_inputs == 16


def test_bad_inputs():
    with pytest.raises(ValueError, match="takes 16 features"):
        _model()(torch.zeros(2, 10))
    with pytest.raises(ValueError, match="must fit a 4-wire QNN"):
        QNN(4, "6x6_ryzxy", build_space("u3cu3", 4, 1))
    with pytest.raises(ValueError, match="must not read input features"):
        QNN(2, ry_encoder(2), qml.Circuit(2).rx(0, qml.Input(0)))


@pytest.mark.parametrize("n_classes", [1, 0, -2])
def test_fewer_than_two_classes_is_an_error_not_a_constant_classifier(n_classes):
    with pytest.raises(ValueError, match=f"n_classes >= 2, got {n_classes}.*constant classifier"):
        QNN(4, "4x4_ryzxy", build_space("u3cu3", 4, 1), n_classes=n_classes)
    with pytest.raises(ValueError, match="n_classes >= 2, got 1"):  # one wire, one class by default
        QNN(1, ry_encoder(1), qml.Circuit(1).ry(0, "theta"))


def test_multi_node_chains_z_outputs():
    first = QNN(4, "4x4_ryzxy", build_space("u3cu3", 4, 1), readout=None, seed=0)
    second = QNN(4, ry_encoder(4), build_space("zzry", 4, 2), n_classes=2, seed=1)
    scale = lambda k, z: z * 2.0  # noqa: E731  (a stand-in for post-measurement normalization)
    model = MultiNodeQNN([first, second], between=scale)
    x = torch.randn(6, 16)
    expected = second(first(x) * 2.0)
    torch.testing.assert_close(model(x), expected)
    assert model.n_features == 16 and len(list(model.parameters())) == 2
    circuits = model.circuits(x[0])
    z1 = qml.expval_z(qml.simulate(circuits[0]))
    torch.testing.assert_close(z1, first(x[:1]), atol=1e-5, rtol=0)
    assert circuits[1].n_inputs == 0 and len(model.circuits()) == 2
    with pytest.raises(ValueError, match="gives 4 outputs but node 1's encoder takes 16"):
        MultiNodeQNN([first, QNN(4, "4x4_ryzxy", build_space("u3cu3", 4, 1))])
    with pytest.raises(ValueError, match="readout=None"):
        MultiNodeQNN([second, QNN(4, ry_encoder(4), build_space("u3cu3", 4, 1))])
