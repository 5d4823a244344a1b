"""The engine's fast paths against plain references: the widened GEMM of a dense step, runs
that write into reused buffers, <Z> of wide states from two marginals, sparse angle tables."""

import pytest
import torch

import qml
from qml.gates import GATES, TrigTable
from qml.layers import random_circuit as random_ansatz
from qml.sim import kernels, workspace
from qml.sim.measurement import _z_signs, probabilities

from .conftest import random_circuit


def _reference_apply(n: int, wires: tuple, state: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """m on ``wires`` by moving them last: an independent route to the same product."""
    b, k = state.shape[0], len(wires)
    others = [a for a in range(n) if a not in wires]
    perm = [0] + [1 + a for a in others] + [1 + w for w in wires]
    rows = state.view(b, *[2] * n).permute(perm).reshape(b, -1, 2 ** k) @ m.transpose(-1, -2)
    return rows.reshape([b] + [2] * (n - k) + [2] * k).permute([perm.index(a) for a in range(n + 1)]).reshape(b, -1)


@pytest.mark.parametrize("wires", [(3,), (2, 3), (4, 5), (1, 2, 3), (0, 1), (5,), (2, 3, 4, 5), (0, 1, 2, 3, 4),
                                   (1, 2, 3, 4, 5, 6, 7)])
@pytest.mark.parametrize("shared", [True, False])
def test_dense_step_matches_reference(wires, shared):
    """Every layout (one wide GEMM when few amplitudes follow the wires, else a GEMM per left
    index), with and without ``out`` and ``inverse``, to 1e-12 in complex128."""
    n, b = max(6, wires[-1] + 1), 3
    gen = torch.Generator().manual_seed(len(wires) * 10 + wires[0])
    state = torch.randn(b, 2 ** n, dtype=torch.complex128, generator=gen)
    d = 2 ** len(wires)
    m = torch.randn(*(() if shared else (b,)), d, d, dtype=torch.complex128, generator=gen)
    kernel = kernels.Dense(n, wires)
    expected = _reference_apply(n, wires, state, m)
    assert torch.allclose(kernel.apply(state, m), expected, atol=1e-12)
    out = torch.empty_like(state)
    assert kernel.apply(state, m, out=out) is out
    assert torch.allclose(out, expected, atol=1e-12)
    inverse = _reference_apply(n, wires, state, m.conj().transpose(-1, -2))
    assert torch.allclose(kernel.apply(state, m, inverse=True, out=out), inverse, atol=1e-12)


def test_runs_without_gradient_equal_recorded_runs(rng):
    """A no-grad run (steps alternating between two reused buffers) gives the recorded run's
    states; a returned state is never written by a later call; a given initial state is kept."""
    for _ in range(5):
        c = random_circuit(5, 40, rng)
        with torch.enable_grad():
            recorded = qml.simulate(c, dtype=torch.complex128)
        with torch.no_grad():
            first = qml.simulate(c, dtype=torch.complex128)
            kept = first.clone()
            second = qml.simulate(c, dtype=torch.complex128)
        assert torch.allclose(first, recorded, atol=1e-12) and torch.equal(first, kept)
        assert torch.equal(second, first) and second.data_ptr() != first.data_ptr()
    start = torch.zeros(2, 32, dtype=torch.complex64)
    start[:, 3] = 1
    before = start.clone()
    with torch.no_grad():
        qml.simulate(random_circuit(5, 30, rng), initial_state=start)
    assert torch.equal(start, before)


def test_workspace_keeps_one_spare():
    a, b = torch.empty(2, 8), torch.empty(3, 8)
    workspace.give(a)
    workspace.give(b)                     # replaces a
    assert workspace.take(torch.zeros(3, 8)) is b
    assert workspace.take(torch.zeros(2, 8)) is not a
    workspace.give(torch.empty(2 ** 27, dtype=torch.complex64))   # over KEEP_BYTES: not kept
    assert workspace._spare == {}


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128, torch.float64])
@pytest.mark.parametrize("n", [13, 16])
def test_expval_z_of_wide_states(dtype, n):
    """Above 12 wires <Z> comes from two marginals read a chunk at a time: equal to the sign
    table's product (1e-5 in single, 1e-12 in double precision), gradients too."""
    gen = torch.Generator().manual_seed(n)
    state = torch.randn(3, 2 ** n, dtype=dtype, generator=gen)
    state = (state / state.abs().square().sum(1, keepdim=True).sqrt()).requires_grad_(True)
    real = torch.float32 if dtype == torch.complex64 else torch.float64
    reference = state.detach().clone().requires_grad_(True)
    expected = probabilities(reference) @ _z_signs(n, real, torch.device("cpu"))
    z = qml.expval_z(state)
    tol = 1e-5 if dtype == torch.complex64 else 1e-12
    assert torch.allclose(z, expected, atol=tol)
    weights = torch.randn(n, dtype=real, generator=gen)
    grad, = torch.autograd.grad((z @ weights).sum(), state)
    expected_grad, = torch.autograd.grad((expected @ weights).sum(), reference)
    assert torch.allclose(grad, expected_grad, atol=tol)


def test_angle_table_is_sparse():
    """An angle reads a few sources: the table stores its terms, not a dense angles x sources
    matrix (which grew with the square of the circuit)."""
    c = random_ansatz(4, 3000, seed=1)
    plan = qml.sim.plan.plan_for(c)
    table = plan.layout(False).tables[False]
    assert table.weights.numel() <= 2 * table.k
    gate = GATES["u3"]
    linear = TrigTable([(gate, [[(0, 0.5), (1, 2.0)], 1, [(0, 1.0), (0, 1.0)]])], 2)
    sources = torch.tensor([0.3, -1.1], dtype=torch.float64)
    expected = gate.matrix(torch.tensor([0.5 * 0.3 + 2.0 * -1.1, -1.1, 0.6], dtype=torch.float64))
    assert torch.allclose(linear(sources).reshape(2, 2), expected, atol=1e-14)


def test_random_ansatz_counts_its_parameters():
    """The builder keeps its own count (recounting the circuit each gate was quadratic): the
    circuit still has exactly the parameters asked for, at 100,000 too."""
    for n_params in (1, 2, 7, 100_000):
        assert len(random_ansatz(4, n_params, seed=3).parameters) == n_params


@pytest.mark.parametrize("count", [2, 3, 5, 6, 7, 13])
def test_tree_product_and_its_backward(count):
    """A block's operand, the tree product of its gate factors, against the factors multiplied
    one by one (value and gradient, 1e-10 in complex128; odd levels padded with the identity),
    and finite differences (torch's gradcheck) in float64."""
    from qml.sim.plan import _product

    gen = torch.Generator().manual_seed(count)
    factors = (torch.randn(count, 3, 4, 4, dtype=torch.complex128, generator=gen) / 2).requires_grad_(True)
    product = _product(factors, False, False)
    expected = factors[0]
    for m in factors[1:]:
        expected = m @ expected
    weights = torch.randn(3, 4, 4, dtype=torch.complex128, generator=gen)
    grad, = torch.autograd.grad((product * weights).real.sum(), factors)
    expected_grad, = torch.autograd.grad((expected * weights).real.sum(), factors)
    assert torch.allclose(product, expected, atol=1e-10) and torch.allclose(grad, expected_grad, atol=1e-10)
    real = torch.randn(count, 4, 4, dtype=torch.float64, generator=gen).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: _product(x, False, False), (real,))


def test_a_large_circuit_compiles_behind_a_progress_bar(monkeypatch, capsys):
    """Past COMPILE_NOTICE gates the first call says it is compiling (stderr), and the result
    is the same as a plain compile's."""
    from qml.sim import plan as plan_module

    c = random_ansatz(3, 40, seed=2)
    values = torch.rand(len(c.parameters), dtype=torch.float64)
    expected = qml.simulate(c.bind(values), dtype=torch.complex128)
    monkeypatch.setattr(plan_module, "COMPILE_NOTICE", 10)
    state = qml.simulate(c, values, dtype=torch.complex128)
    assert f"compiling {len(plan_module.plan_for(c).gates):,} gates" in capsys.readouterr().err
    assert torch.allclose(state, expected, atol=1e-12)


def test_imported_and_grad_mode_runs_do_the_same_work():
    """The B2 circuit imported from qiskit is equal to the one built here (so it compiles to the
    same plan), and grad mode with nothing requiring grad takes the unrecorded path (the one
    that reuses buffers), not the recording one."""
    from benchmarks.sim_peers import wide_circuit

    c = wide_circuit(6, trainable=False)
    assert qml.Circuit.from_qiskit(c.to_qiskit()) == c
    workspace._spare.clear()
    with torch.enable_grad():
        state = qml.simulate(c)
    assert not state.requires_grad and workspace._spare


def test_a_constant_circuits_product_state_is_kept_per_prefix():
    """A circuit with no parameters keeps its product state; error sites that cut the prefix
    short give another one (not the kept one), and a run never writes the kept one."""
    from qml.sim.errors import PauliErrors

    c = qml.Circuit(3).h(0).ry(1, 0.4).rx(2, 0.9).cx(0, 1).cz(1, 2)
    with torch.no_grad():
        clean = qml.simulate(c, dtype=torch.complex128)
        draws = torch.ones(1, 1, dtype=torch.int64)            # X on wire 0 right after the H
        flipped = qml.simulate(c, dtype=torch.complex128, errors=PauliErrors(((0, (0,)),), draws))
        again = qml.simulate(c, dtype=torch.complex128)
    expected = qml.simulate(qml.Circuit(3).h(0).x(0).ry(1, 0.4).rx(2, 0.9).cx(0, 1).cz(1, 2),
                            dtype=torch.complex128)
    assert torch.allclose(flipped, expected, atol=1e-12) and torch.equal(again, clean)
