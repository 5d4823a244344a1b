"""Density-matrix mode: exact noisy simulation of small circuits, batched and differentiable.

A density matrix ``rho`` of n wires is held as a vector of 2n wires, ``rho[r, c]`` at index
``r * 2**n + c`` (rows first), so the statevector kernels act on it unchanged: a gate U on
wires W applies ``kron(U, conj(U))`` on wires ``W + (W + n)`` (rho -> U rho U-dagger), and a
noise channel applies its superoperator on the same wires. Channels are data, given by
the caller (the engine knows no devices): a :class:`Channel` acts after a given op, a
readout error is a confusion matrix per wire on the measured distribution. Runs of one-wire
gates and their channels are multiplied into one 4x4 superoperator per wire before they
touch the state.

Example:
    >>> import torch, qml
    >>> from qml.sim.density import Channel, simulate_density, density_expval_z
    >>> flip = 0.1                                       # a bit flip with probability 0.1
    >>> S = (1 - flip) * torch.eye(4) + flip * torch.tensor([[0., 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0]])
    >>> rho = simulate_density(qml.Circuit(1).x(0), channels=[Channel(0, (0,), S)])
    >>> round(density_expval_z(rho).item(), 4)          # 0.9 * (-1) + 0.1 * (+1)
    -0.8
    >>> round(density_expval_z(rho, readout=[(0.0, 0.05)]).item(), 4)   # P(read 0 | 1) = 0.05
    -0.71
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

import torch

from qml.circuit import Circuit
from qml.sim import kernels
from qml.sim.engine import DTYPES, _device_of, check_batch, check_inputs, check_params
from qml.sim.measurement import _z_signs
from qml.sim.plan import plan_for

#: The widest circuit the density-matrix mode accepts (4**n amplitudes per sample).
MAX_WIRES = 12


@dataclass(frozen=True)
class Channel:
    """A noise channel on ``wires`` acting right after ``circuit.ops[after]``.

    ``superop`` is its ``(4**k, 4**k)`` superoperator for k wires in the row-major
    convention ``rho'[r', c'] = sum S[r' * 2**k + c', r * 2**k + c] rho[r, c]`` (the first
    wire the most significant bit), i.e. ``sum_K kron(K, conj(K))`` over Kraus operators K.
    """

    after: int
    wires: tuple[int, ...]
    superop: Any


def simulate_density(circuit: Circuit, params=None, inputs=None, *, channels: Sequence[Channel] = (),
                     dtype: torch.dtype = torch.complex64, device=None) -> torch.Tensor:
    """Final density matrices ``(batch, 2**n, 2**n)`` of ``circuit`` from ``|0...0><0...0|``
    with ``channels`` applied after their ops; differentiable by autograd.

    ``params`` and ``inputs`` are as for :func:`qml.simulate`.
    """
    n, batch, device, steps = _steps(circuit, params, inputs, channels, dtype, device)
    rho = _initial(n, batch, dtype, device)
    for kernel, operand in steps:
        rho = kernel.apply(rho, operand)
    return rho.view(batch, 2 ** n, 2 ** n)


def density_expval(circuit: Circuit, observables: torch.Tensor, params=None, inputs=None, *,
                   channels: Sequence[Channel] = (), dtype: torch.dtype = torch.complex64,
                   device=None) -> torch.Tensor:
    """``Tr(O_k rho)`` ``(batch, k)`` for diagonal observables ``observables`` ``(k, 2**n)``
    (real, the diagonal of each ``O_k``) on the final state of :func:`simulate_density`.

    The same numbers as ``simulate_density`` then the trace, faster when the samples share
    the end of the circuit (an encoder, then fixed angles): the state is carried forward per
    sample only through the steps that differ between samples and the steps they must
    follow; the ``k`` observables are carried backwards through the rest (Heisenberg
    picture: each superoperator's transpose), which then costs ``k`` vectors, not ``batch``.

    Example:
        >>> import torch, qml
        >>> c = qml.Circuit(2).ry(0, qml.Input(0)).cx(0, 1).rx(1, 0.3)
        >>> z1 = torch.tensor([[1.0, -1.0, 1.0, -1.0]])              # Z on wire 1
        >>> x = torch.tensor([[0.4], [1.2]])
        >>> fast = density_expval(c, z1, inputs=x)
        >>> slow = density_expval_z(simulate_density(c, inputs=x))[:, 1:]
        >>> torch.allclose(fast, slow, atol=1e-6)
        True
    """
    n, batch, device, steps = _steps(circuit, params, inputs, channels, dtype, device, keep_shared=True)
    observables = torch.as_tensor(observables)
    if observables.dim() != 2 or observables.shape[1] != 2 ** n or observables.is_complex():
        raise ValueError(f"observables must be real diagonals of shape (k, {2 ** n}), got "
                         f"{tuple(observables.shape)} {observables.dtype}")
    head, tail = _split(steps)
    rho = _initial(n, batch, dtype, device)
    for kernel, operand in head:
        rho = kernel.apply(rho, operand)
    diagonal = torch.arange(2 ** n, device=device) * (2 ** n + 1)
    functionals = torch.zeros(len(observables), 4 ** n, dtype=dtype, device=device)
    functionals[:, diagonal] = observables.to(device=device, dtype=dtype)
    for kernel, operand in reversed(tail):
        diagonal_kernel = isinstance(kernel, kernels.Diagonal)
        functionals = kernel.apply(functionals, operand if diagonal_kernel else operand.transpose(-1, -2))
    return (rho @ functionals.T).real


def _split(steps: list) -> tuple[list, list]:
    """(head, tail): the per-sample steps and every step they must follow, in order; then the
    rest, in order. A tail step shares no wire with a head step after it, so running the
    tail after the head is the same circuit."""
    needed: set[int] = set()
    in_head = [False] * len(steps)
    for i in range(len(steps) - 1, -1, -1):
        kernel, operand = steps[i]
        wires = set(kernel.wires)
        if operand.dim() > (1 if isinstance(kernel, kernels.Diagonal) else 2) or wires & needed:
            in_head[i] = True
            needed |= wires
    return ([step for step, h in zip(steps, in_head) if h],
            [step for step, h in zip(steps, in_head) if not h])


def _initial(n: int, batch: int, dtype, device) -> torch.Tensor:
    rho = torch.zeros(batch, 4 ** n, dtype=dtype, device=device)
    rho[:, 0] = 1
    return rho


def _steps(circuit: Circuit, params, inputs, channels, dtype, device, keep_shared: bool = False
           ) -> tuple[int, int, Any, list]:
    """(wires, batch, torch device, the (kernel, operand) steps that carry the state from start to end):
    operands shared (2-d, or 1-d for a diagonal) or per sample (3-d, 2-d diagonal: batched);
    runs of one-wire gates with their channels multiplied into one step per wire, and a
    two-wire gate with its noise and its wires' pending runs. With ``keep_shared`` a wire's run
    ends at its last per-sample op, so the shared gates after it can go to :func:`_split`'s tail."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be torch.complex64 or torch.complex128, got {dtype}")
    if not isinstance(circuit, Circuit):
        raise ValueError(f"expected a qml.Circuit, got {type(circuit).__name__}")
    n = circuit.n_wires
    if n > MAX_WIRES:
        raise ValueError(f"the density-matrix mode holds at most {MAX_WIRES} wires; the circuit has {n}")
    real = torch.float64 if dtype == torch.complex128 else torch.float32
    device = torch.device(device) if device is not None else _device_of(params, inputs)
    params = check_params(circuit, params, real, device)
    inputs = check_inputs(circuit, inputs, real, device)
    batch = check_batch(params, inputs, None)
    after = _check_channels(circuit, channels, dtype, device)
    matrices = _gate_matrices(circuit, params, inputs, batch, dtype, device)
    last_per_sample = {w: i for i, op in enumerate(circuit.ops) if i in matrices and matrices[i].dim() == 3
                       for w in op.wires} if keep_shared else {}
    steps: list = []
    pending: dict[int, torch.Tensor] = {}     # per wire: the product of its latest one-wire superoperators
    for i, op in enumerate(circuit.ops):
        m = matrices.get(i)
        attached = after.get(i, [])
        if m is not None and len(op.wires) <= 2 and all(wires == op.wires for wires, _ in attached):
            superop = _kron_conj(m)
            for _, channel in attached:
                superop = channel @ superop
            if len(op.wires) == 1:
                w = op.wires[0]
                pending[w] = superop if w not in pending else superop @ pending[w]
                if last_per_sample.get(w) == i:      # the wire's last per-sample op: its run ends here
                    steps.append((_dense(n, (w,)), pending.pop(w)))
                continue
            if pending.keys() & set(op.wires):   # the two-wire gate, its noise and its wires' pending runs
                superop = superop @ _pair(*(pending.pop(w, None) for w in op.wires))
            steps.append((_dense(n, op.wires), superop))
            continue
        for w in sorted(set(op.wires).union(*(wires for wires, _ in attached)) & set(pending)):
            steps.append((_dense(n, (w,)), pending.pop(w)))
        if m is not None and len(attached) == 1 and attached[0][0] == op.wires:
            steps.append((_dense(n, op.wires), attached[0][1] @ _kron_conj(m)))   # gate and its noise fused
            continue
        if m is not None:
            steps.append(_gate_step(n, op, m))
        for wires, superop in attached:
            steps.append((_dense(n, wires), superop))
    for w in sorted(pending):
        steps.append((_dense(n, (w,)), pending[w]))
    return n, batch, device, steps


def density_probabilities(rho: torch.Tensor, readout: Sequence[tuple[float, float]] | None = None) -> torch.Tensor:
    """Measured distribution ``(batch, 2**n)``: the diagonal of rho, then per wire the readout
    confusion given as ``(P(read 1 | 0), P(read 0 | 1))`` (``None`` for a perfect readout)."""
    if rho.dim() != 3 or rho.shape[1] != rho.shape[2]:
        raise ValueError(f"density matrices must have shape (batch, 2**n, 2**n), got {tuple(rho.shape)}")
    n = rho.shape[1].bit_length() - 1
    probs = rho.diagonal(dim1=1, dim2=2).real
    if readout is None:
        return probs
    if len(readout) != n:
        raise ValueError(f"readout needs one (p1_given_0, p0_given_1) pair per wire: {n}, got {len(readout)}")
    for w, (p10, p01) in enumerate(readout):
        if not (0 <= p10 <= 1 and 0 <= p01 <= 1):
            raise ValueError(f"readout probabilities of wire {w} must lie in [0, 1], got {(p10, p01)}")
        if p10 or p01:
            confusion = torch.tensor([[1 - p10, p01], [p10, 1 - p01]], dtype=probs.dtype, device=probs.device)
            probs = kernels.Dense(n, (w,)).apply(probs, confusion)
    return probs


def density_expval_z(rho: torch.Tensor, readout: Sequence[tuple[float, float]] | None = None) -> torch.Tensor:
    """``<Z>`` per wire ``(batch, n)`` as measured (after the readout error, if given)."""
    probs = density_probabilities(rho, readout)
    n = probs.shape[1].bit_length() - 1
    return probs @ _z_signs(n, probs.dtype, probs.device)


def _check_channels(circuit: Circuit, channels, dtype, device) -> dict[int, list]:
    """Channels grouped by the op they follow, superoperators as tensors of the state's dtype."""
    after: dict[int, list] = {}
    for ch in channels:
        if not isinstance(ch, Channel):
            raise ValueError(f"channels must be qml.sim.density.Channel records, got {type(ch).__name__}")
        if not 0 <= ch.after < len(circuit.ops):
            raise ValueError(f"a channel follows op {ch.after}, but the circuit has {len(circuit.ops)} ops")
        wires = tuple(ch.wires)
        if not wires or len(set(wires)) != len(wires) or not all(0 <= w < circuit.n_wires for w in wires):
            raise ValueError(f"channel wires {wires} must be distinct wires of the {circuit.n_wires}-wire circuit")
        superop = torch.as_tensor(ch.superop).to(dtype=dtype, device=device)
        size = 4 ** len(wires)
        if superop.shape != (size, size):
            raise ValueError(f"a channel on {len(wires)} wire(s) needs a {size}x{size} superoperator, "
                             f"got shape {tuple(superop.shape)}")
        after.setdefault(ch.after, []).append((wires, superop))
    return after


def _gate_matrices(circuit: Circuit, params, inputs, batch, dtype, device) -> dict[int, torch.Tensor]:
    """Each gate op's matrix, (d, d) shared or (batch, d, d) per sample, by index in circuit.ops
    (built by the statevector plan's buffers: one table evaluation for all gates)."""
    plan = plan_for(circuit)
    layout = plan.layout(params is not None and params.dim() == 2)
    shared, batched = plan._buffers(layout, params, inputs, batch, dtype, device)
    empty = torch.zeros(0, dtype=torch.empty(0, dtype=dtype).real.dtype, device=device)
    out, g = {}, 0
    for i, op in enumerate(circuit.ops):
        if op.is_directive or op.name == "id":
            continue
        d = plan.dim(g)
        if g in layout.where:
            on_batch, offset = layout.where[g]
            values = batched[offset:offset + d * d] if on_batch else shared[offset:offset + d * d]
            m = values.T.reshape(batch, d, d) if on_batch else values.reshape(d, d)
        else:                                   # a wide permutation the plan gathers
            m = op.gate.matrix(empty).to(dtype)
        out[i] = m.conj().transpose(-1, -2) if op.adjoint else m
        g += 1
    return out


def _gate_step(n: int, op, m: torch.Tensor) -> tuple:
    if op.gate.diagonal:
        d = m.diagonal(dim1=-2, dim2=-1)
        return _diagonal(n, op.wires), (d.unsqueeze(-1) * d.conj().unsqueeze(-2)).flatten(-2)
    return _dense(n, op.wires), _kron_conj(m)


def _kron_conj(m: torch.Tensor) -> torch.Tensor:
    """kron(U, conj(U)) for U of shape (..., d, d): the superoperator of rho -> U rho U-dagger."""
    d = m.shape[-1]
    return (m[..., :, None, :, None] * m.conj()[..., None, :, None, :]).reshape(*m.shape[:-2], d * d, d * d)


def _pair(first: torch.Tensor | None, second: torch.Tensor | None) -> torch.Tensor:
    """Two one-wire superoperators (4x4 on (row bit, column bit), None for the identity) as one
    16x16 on the local index (r1, r2, c1, c2) of a two-wire step."""
    ref = first if first is not None else second
    eye = torch.eye(4, dtype=ref.dtype, device=ref.device)
    a, b = (eye if m is None else m for m in (first, second))
    a, b = a.reshape(*a.shape[:-2], 2, 2, 2, 2), b.reshape(*b.shape[:-2], 2, 2, 2, 2)
    lead = torch.broadcast_shapes(a.shape[:-4], b.shape[:-4])
    return torch.einsum("...ACac,...BDbd->...ABCDabcd", a, b).reshape(*lead, 16, 16)


@lru_cache(maxsize=4096)
def _dense(n: int, wires: tuple[int, ...]) -> kernels.Dense:
    return kernels.Dense(2 * n, (*wires, *(n + w for w in wires)))


@lru_cache(maxsize=4096)
def _diagonal(n: int, wires: tuple[int, ...]) -> kernels.Diagonal:
    return kernels.Diagonal(2 * n, (*wires, *(n + w for w in wires)))
