"""expectation(): expectation values of a circuit with any of the three gradient methods.

The parameter-shift rule shifts one angle of one gate at a time (every occurrence of
a shared parameter separately, each angle of a U3 or CU3 separately) and uses the
four-term rule for controlled rotations, whose generators have eigenvalues {0, +/-1/2}.
All shifted circuits of a backward pass run as one batch.

Example:
    >>> import torch, qml
    >>> c = qml.Circuit(2).cry(0, 1, "a").h(0)
    >>> a = torch.tensor([0.7], dtype=torch.float64, requires_grad=True)
    >>> e = qml.expectation(c, "Z", a, gradient="parameter-shift", dtype=torch.complex128)
    >>> e.sum().backward(); a.grad.shape
    torch.Size([1])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from qml.circuit import Circuit, Linear, Param, symbols
from qml.gates import FOUR_TERM
from qml.sim.cache import CircuitCache
from qml.sim.engine import check_params, simulate
from qml.sim.measurement import PauliSum, expval, expval_z

GRADIENTS = ("autograd", "adjoint", "parameter-shift")

_D_PLUS = (math.sqrt(2) + 1) / (4 * math.sqrt(2))
_D_MINUS = (math.sqrt(2) - 1) / (4 * math.sqrt(2))
#: (shift, coefficient) pairs: df/dtheta = sum coefficient * f(theta + shift)
SHIFT_RULES = {
    "two-term": ((math.pi / 2, 0.5), (-math.pi / 2, -0.5)),
    FOUR_TERM: ((math.pi / 2, _D_PLUS), (-math.pi / 2, -_D_PLUS),
                (3 * math.pi / 2, -_D_MINUS), (-3 * math.pi / 2, _D_MINUS)),
}


def measure(states: torch.Tensor, observables) -> torch.Tensor:
    """``"Z"``: <Z> per wire (batch, n); a PauliSum or a list of them: (batch, m)."""
    if isinstance(observables, str):
        if observables != "Z":
            raise ValueError(f"observables must be 'Z', a PauliSum or a list of PauliSums; got {observables!r}")
        return expval_z(states)
    if isinstance(observables, PauliSum):
        observables = [observables]
    return torch.stack([expval(states, o) for o in observables], dim=1)


def expectation(circuit: Circuit, observables="Z", params=None, inputs=None, *,
                gradient: str = "autograd", dtype: torch.dtype = torch.complex64, device=None,
                shift_batch: int = 4096) -> torch.Tensor:
    """Expectation values, shape (batch, m), differentiable by ``gradient``.

    ``gradient``: "autograd", "adjoint" or "parameter-shift" (exact, as on hardware; the
    shifted circuits run in batches of at most ``shift_batch`` states).
    """
    if gradient not in GRADIENTS:
        raise ValueError(f"unknown gradient method {gradient!r}; choose one of {GRADIENTS}")
    if gradient != "parameter-shift":
        return measure(simulate(circuit, params, inputs, dtype=dtype, device=device, gradient=gradient),
                       observables)
    real = torch.float64 if dtype == torch.complex128 else torch.float32
    if isinstance(params, dict) or params is None:
        params = check_params(circuit, params, real, device or "cpu")
    occurrences = _occurrences(circuit)
    run = lambda occ_values, x: measure(simulate(occurrences.circuit, occ_values, x, dtype=dtype,
                                                 device=device), observables)
    empty = torch.zeros(0)
    return _ParameterShift.apply(params if params is not None else empty, inputs, run, occurrences,
                                 shift_batch)


@dataclass
class _Occurrences:
    """The circuit with one parameter per gate angle that reads a trainable parameter.

    Occurrence k's value is ``offset[k] + sum(coef * params[param]) + sum(coef * inputs[feature])``
    over the entries of ``from_params`` and ``from_inputs``, each ``(k, index, coef)`` columns.
    """

    circuit: Circuit
    rules: list[str]
    offset: torch.Tensor
    from_params: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    from_inputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor]

    def values(self, params: torch.Tensor, inputs: torch.Tensor | None) -> torch.Tensor:
        """Occurrence values, (K,) or (batch, K) when parameters or inputs are per sample."""
        k, j, c = (t.to(params.device) for t in self.from_params)
        occ = self.offset.to(params).expand(*params.shape[:-1], -1).clone()
        occ.index_add_(-1, k, params[..., j] * c.to(params))
        if len(self.from_inputs[0]):
            k, j, c = (t.to(params.device) for t in self.from_inputs)
            occ = occ.expand(inputs.shape[0], -1).clone() if occ.dim() == 1 else occ
            occ.index_add_(-1, k, inputs[:, j].to(occ) * c.to(occ))
        return occ

    def param_grad(self, grad_occ: torch.Tensor, n_params: int) -> torch.Tensor:
        """dL/dparams (n_params, batch) from dL/d(occurrence) (K, batch)."""
        k, j, c = (t.to(grad_occ.device) for t in self.from_params)
        grad = grad_occ.new_zeros(n_params, grad_occ.shape[1])
        return grad.index_add_(0, j, grad_occ[k] * c.to(grad_occ)[:, None])


def _build_occurrences(circuit: Circuit) -> _Occurrences:
    names = circuit.parameters
    ops, rules, offsets, from_params, from_inputs = [], [], [], [], []
    for op in circuit.ops:
        params = list(op.params)
        for i, p in enumerate(params):
            if not any(isinstance(s, Param) for s in symbols(p)):
                continue
            k = len(rules)
            terms = p.terms if isinstance(p, Linear) else ((p, 1.0),)
            for s, c in terms:
                (from_params if isinstance(s, Param) else from_inputs).append(
                    (k, names.index(s.name) if isinstance(s, Param) else s.index, c))
            offsets.append(p.offset if isinstance(p, Linear) else 0.0)
            rules.append(op.gate.shift_rules[i])
            params[i] = Param(f"occ{k}")
        ops.append(replace(op, params=tuple(params)))

    def columns(entries):
        k, j, c = zip(*entries) if entries else ((), (), ())
        return torch.tensor(k, dtype=torch.int64), torch.tensor(j, dtype=torch.int64), \
            torch.tensor(c, dtype=torch.float64)
    return _Occurrences(Circuit(circuit.n_wires, ops), rules, torch.tensor(offsets, dtype=torch.float64),
                        columns(from_params), columns(from_inputs))


_occurrences = CircuitCache(_build_occurrences)


class _ParameterShift(torch.autograd.Function):
    @staticmethod
    def forward(ctx, params, inputs, run, occurrences, shift_batch):
        ctx.run, ctx.occurrences, ctx.shift_batch = run, occurrences, shift_batch
        ctx.save_for_backward(params, inputs) if inputs is not None else ctx.save_for_backward(params)
        occ = occurrences.values(params, inputs) if occurrences.rules else None
        return run(occ, inputs)

    @staticmethod
    def backward(ctx, grad_out):
        params, *rest = ctx.saved_tensors
        inputs = rest[0] if rest else None
        rules = ctx.occurrences.rules
        if not rules or not ctx.needs_input_grad[0]:
            return (None,) * 5
        occ = ctx.occurrences.values(params, inputs)          # (K,) or (B, K)
        batch = grad_out.shape[0]
        occ = occ.expand(batch, -1) if occ.dim() == 1 else occ
        shifted, coeffs, which = [], [], []
        for k, rule in enumerate(rules):
            for shift, coeff in SHIFT_RULES[rule]:
                v = occ.clone()
                v[:, k] += shift
                shifted.append(v)
                coeffs.append(coeff)
                which.append(k)
        values = torch.cat(shifted)                          # (T * B, K)
        xs = None if inputs is None else inputs.repeat(len(shifted), 1)
        step = max(ctx.shift_batch // batch, 1) * batch
        with torch.no_grad():
            f = torch.cat([ctx.run(values[i:i + step], None if xs is None else xs[i:i + step])
                           for i in range(0, len(values), step)])
        f = f.view(len(shifted), batch, -1)                  # (T, B, m)
        on = dict(dtype=f.dtype, device=f.device)
        weighted = (f * grad_out).sum(-1) * torch.tensor(coeffs, **on).unsqueeze(1)  # (T, B)
        per_occurrence = torch.zeros(len(rules), batch, **on)
        per_occurrence.index_add_(0, torch.tensor(which, device=f.device), weighted)
        grad = ctx.occurrences.param_grad(per_occurrence, params.shape[-1])
        grad = grad.T if params.dim() == 2 else grad.sum(1)
        return grad.to(params.dtype), None, None, None, None
