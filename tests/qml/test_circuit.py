"""The Circuit type: building, validation, structure, serialisation."""

import math

import pytest
import torch

import qml
from qml import Circuit, Input, Param


def test_builders_validate():
    c = Circuit(3)
    with pytest.raises(ValueError, match="wire 3 of rx is out of range for 3 wires"):
        c.rx(3, 0.1)
    with pytest.raises(ValueError, match="repeated wires"):
        c.cx(1, 1)
    with pytest.raises(ValueError, match="u3 takes 1 wire.*then 3 parameter"):
        c.u3(0, 0.1)
    with pytest.raises(ValueError, match="not finite"):
        c.rx(0, float("nan"))
    with pytest.raises(ValueError, match="a parameter must be"):
        c.rx(0, [1, 2])
    with pytest.raises(ValueError, match="positive integer"):
        Circuit(0)
    assert len(c) == 0


def test_structure_queries():
    c = Circuit(3).h(0).cx(0, 1).rz(2, "a").cx(1, 2).ry(0, Input(4)).rz(1, "b").rz(2, "a")
    assert c.depth() == 4
    assert c.count_ops() == {"h": 1, "cx": 2, "rz": 3, "ry": 1}
    assert c.parameters == ("a", "b") and c.n_inputs == 5
    bound = c.bind({"a": 0.5}, inputs=[0, 0, 0, 0, 1.5])
    assert bound.parameters == ("b",) and bound.n_inputs == 0
    assert bound.ops[4].params == (1.5,)


def test_inverse_undoes_the_circuit():
    c = Circuit(3).h(0).u3(1, 0.1, 0.2, 0.3).cu3(0, 2, 0.4, 0.5, 0.6).iswap(1, 2).sqrtswap(0, 1).sh(2)
    c.global_phase = 0.3
    state = qml.simulate(c + c.inverse(), dtype=torch.complex128)[0]
    assert torch.allclose(state, torch.eye(8, dtype=state.dtype)[0], atol=1e-12)


def test_json_round_trip_and_equality():
    c = Circuit(3).h(0).rx(1, "t").ry(2, Input(1)).mcx([0, 1], 2).measure(2).barrier()
    c.unitary([[0, 1], [1, 0]], [1])
    again = Circuit.from_json(c.to_json())
    assert again == c and again is not c
    assert again != Circuit(3)


def test_relabel_and_compose():
    c = Circuit(2).h(0).cx(0, 1).relabel({0: 3, 1: 1}, n_wires=4)
    assert [op.wires for op in c.ops] == [(3,), (3, 1)]
    with pytest.raises(ValueError, match="cannot compose"):
        c + Circuit(2)


def test_draw_shows_every_gate():
    text = Circuit(3).h(0).cx(0, 2).rzz(1, 2, "t").draw()
    lines = text.splitlines()
    assert len(lines) == 3 and "H" in lines[0] and "●" in lines[0] and "X" in lines[2]
    assert "│" in lines[1] and "RZZ(t)" in text


def test_unitary_must_be_unitary():
    with pytest.raises(ValueError, match="not unitary"):
        Circuit(1).unitary([[1, 1], [0, 1]], [0])
    with pytest.raises(ValueError, match="4x4 matrix"):
        Circuit(2).unitary([[1, 0], [0, 1]], [0, 1])


def test_ops_are_read_only_so_cached_plans_stay_valid():
    c = Circuit(1).rx(0, "a")
    qml.simulate(c, torch.tensor([0.1]))
    with pytest.raises(AttributeError):
        c.ops.append(c.ops[0])
    c.ry(0, "b")  # appending through the circuit rebuilds its plan
    assert qml.simulate(c, torch.tensor([0.1, 0.2])).shape == (1, 2)
