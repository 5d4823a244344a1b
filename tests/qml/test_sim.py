"""The engine: measurement against qiskit, batching, sampling, bad input."""

import random

import numpy as np
import pytest
import torch

import qml
from qml import Circuit, Input
from qml.interop import qiskit_state

from .conftest import random_circuit


def test_pauli_sum_expectation_matches_qiskit():
    from qiskit.quantum_info import SparsePauliOp, Statevector

    rng = random.Random(3)
    for n in (1, 3, 6):
        c = random_circuit(n, 25, rng)
        state = qml.simulate(c, dtype=torch.complex128)
        terms = [(rng.uniform(-2, 2), "".join(rng.choice("IXYZ") for _ in range(n))) for _ in range(6)]
        ours = qml.expval(state, qml.PauliSum(terms)).item()
        op = SparsePauliOp([p[::-1] for _, p in terms], [c for c, _ in terms])  # qiskit: qubit 0 last
        theirs = Statevector(c.to_qiskit()).expectation_value(op).real
        assert abs(ours - theirs) < 1e-10
        z = qml.expval_z(state)[0]
        for w in range(n):
            single = "".join("Z" if i == w else "I" for i in range(n))
            assert abs(z[w].item() - qml.expval(state, qml.PauliSum([(1.0, single)])).item()) < 1e-12


def test_pauli_sum_forms():
    a = qml.PauliSum([(1.0, "X0 Z2"), (2.0, {1: "Y"})], n_wires=3)
    assert [p for _, p in a.terms] == ["XIZ", "IYI"]
    with pytest.raises(ValueError, match="cannot read Pauli term .XQ."):
        qml.PauliSum([(1.0, "XQ")])
    with pytest.raises(ValueError, match="same length"):
        qml.PauliSum([(1.0, "X"), (1.0, "XX")])


def test_batched_inputs_equal_one_by_one():
    c = Circuit(3).ry(0, Input(0)).rx(1, Input(1)).cu3(0, 2, "a", Input(2), "b").rzz(1, 2, "a")
    x = torch.rand(5, 3)
    params = torch.tensor([0.3, 0.9])
    batched = qml.simulate(c, params, x)
    for i in range(5):
        single = qml.simulate(c.bind(inputs=x[i]), params)
        assert torch.allclose(batched[i], single[0], atol=1e-6)
    per_sample = torch.rand(5, 2)
    b2 = qml.simulate(c, per_sample, x)
    assert torch.allclose(b2[2], qml.simulate(c, per_sample[2], x[2:3])[0], atol=1e-6)


def test_probabilities_and_seeded_sampling():
    state = qml.simulate(Circuit(2).h(0).cx(0, 1))
    assert torch.allclose(qml.probabilities(state), torch.tensor([[0.5, 0, 0, 0.5]]))
    a, b = qml.sample(state, 1000, seed=7), qml.sample(state, 1000, seed=7)
    assert torch.equal(a, b) and set(a.unique().tolist()) == {0, 3}
    counts = qml.counts(state, 1000, seed=7)[0]
    assert set(counts) == {"00", "11"} and sum(counts.values()) == 1000 and 400 < counts["00"] < 600


def test_complex128_and_dict_params():
    c = Circuit(1).rx(0, "a").rz(0, "b")
    s = qml.simulate(c, {"a": 0.4, "b": 0.1}, dtype=torch.complex128)
    assert s.dtype == torch.complex128
    assert torch.allclose(s, qml.simulate(c, torch.tensor([0.4, 0.1], dtype=torch.float64),
                                          dtype=torch.complex128))


@pytest.mark.parametrize("call, message", [
    (lambda c: qml.simulate(c), "2 trainable parameter"),
    (lambda c: qml.simulate(c, torch.zeros(3), torch.zeros(1, 1)), r"shape \(2,\) or \(batch, 2\)"),
    (lambda c: qml.simulate(c, torch.tensor([0.1, float("nan")]), torch.zeros(1, 1)), "NaN"),
    (lambda c: qml.simulate(c, torch.zeros(2)), "reads 1 input"),
    (lambda c: qml.simulate(c, torch.zeros(4, 2), torch.zeros(3, 1)), "batch sizes differ"),
    (lambda c: qml.simulate(c, torch.zeros(2), torch.zeros(1, 1), gradient="magic"), "unknown gradient"),
    (lambda c: qml.simulate(c, torch.zeros(2), torch.zeros(1, 1), gradient="parameter-shift"),
     "qml.expval"),
    (lambda c: qml.simulate(c, torch.zeros(2), torch.zeros(1, 1), dtype=torch.float32), "dtype"),
    (lambda c: qml.simulate(c, {"a": 1.0}, torch.zeros(1, 1)), "no value for"),
    (lambda c: qml.simulate(Circuit(40).h(0)), "40 qubits need"),
    (lambda c: qml.simulate(Circuit(2), initial_state=torch.ones(1, 4)), "norm 1"),
    (lambda c: qml.expval(qml.simulate(Circuit(2)), qml.PauliSum([(1.0, "X")])), "acts on 1 wires"),
    (lambda c: qml.sample(qml.simulate(Circuit(1)), 0), "shots"),
])
def test_bad_input_is_named(call, message):
    c = Circuit(2).rx(0, "a").ry(1, Input(0)).cx(0, 1).rz(1, "b")
    with pytest.raises(ValueError, match=message):
        call(c)


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, qml; print('qiskit' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
