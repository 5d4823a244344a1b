"""simulate(): a circuit, its parameters and inputs -> batched final states.

Example:
    >>> import torch, qml
    >>> c = qml.Circuit(1).rx(0, "a")
    >>> a = torch.tensor([0.3], requires_grad=True)
    >>> z = qml.expval_z(qml.simulate(c, a, gradient="adjoint"))
    >>> z.sum().backward(); round(a.grad.item(), 4) == round(-torch.sin(a).item(), 4)
    True
"""

from __future__ import annotations

import math

import torch

from qml.circuit import Circuit
from qml.sim import kernels
from qml.sim.plan import plan_for

GRADIENTS = ("autograd", "adjoint")
DTYPES = (torch.complex64, torch.complex128)


def simulate(circuit: Circuit, params=None, inputs=None, *, dtype: torch.dtype = torch.complex64,
             device=None, gradient: str = "autograd", initial_state: torch.Tensor | None = None,
             errors=None) -> torch.Tensor:
    """Final states, shape ``(batch, 2**n)``, of ``circuit`` from ``|0...0>`` (or ``initial_state``).

    ``params``: values of ``circuit.parameters``, a tensor of shape ``(p,)`` shared by the
    batch or ``(batch, p)`` per sample, or a dict name -> value. ``inputs``: features,
    ``(batch, n_features)``. ``gradient``: ``"autograd"`` (torch records every step) or
    ``"adjoint"`` (memory flat in depth: the backward pass undoes the circuit step by step).
    For the parameter-shift rule see :func:`qml.expval`. ``errors``: Pauli errors drawn per
    sample (:class:`qml.sim.errors.PauliErrors`, noise injection), applied after their ops.
    """
    if gradient not in GRADIENTS:
        hint = " (the parameter-shift rule differentiates expectation values: use qml.expval)" \
            if gradient == "parameter-shift" else ""
        raise ValueError(f"unknown gradient method {gradient!r}; choose one of {GRADIENTS}{hint}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be torch.complex64 or torch.complex128, got {dtype}")
    if not isinstance(circuit, Circuit):
        raise ValueError(f"expected a qml.Circuit, got {type(circuit).__name__}")
    real_dtype = torch.float64 if dtype == torch.complex128 else torch.float32
    device = torch.device(device) if device is not None else _device_of(params, inputs, initial_state)
    params = check_params(circuit, params, real_dtype, device)
    inputs = check_inputs(circuit, inputs, real_dtype, device)
    batch = check_batch(params, inputs, initial_state, errors)
    check_size(circuit.n_wires, batch, dtype, device)
    plan = plan_for(circuit)
    state = None if initial_state is None else initial(circuit.n_wires, initial_state, dtype, device)
    real = plan.real and (state is None or not state.imag.any())  # real gates, real state
    work_dtype = real_dtype if real else dtype
    if errors is not None and errors.draws.device != device:
        errors = type(errors)(errors.sites, errors.draws.to(device))
    prefix_state, steps, operands, owned = plan.prepare(params, inputs, batch, work_dtype, device,
                                                        from_zero=state is None, errors=errors)
    if state is None:
        if prefix_state is None:
            prefix_state, owned = zero_state(circuit.n_wires, batch, work_dtype, device), True
        state = prefix_state
    else:
        owned = False
        if real:
            state = state.real
    if gradient == "adjoint" and torch.is_grad_enabled() and steps:
        state = _AdjointRun.apply(steps, state, *operands)
    else:
        state = plan.run(steps, state, operands, owned=owned)
    state = state.to(dtype)
    if circuit.global_phase:
        state = state * complex(math.cos(circuit.global_phase), math.sin(circuit.global_phase))
    return state


class _AdjointRun(torch.autograd.Function):
    """The circuit as one autograd node whose backward is the adjoint method."""

    @staticmethod
    def forward(ctx, steps: list, state: torch.Tensor, *operands):
        for step, m in zip(steps, operands):
            state = step.kernel.apply(state, m)
        ctx.steps, ctx.present = steps, [m is not None for m in operands]
        ctx.save_for_backward(state, *[m for m in operands if m is not None])
        return state

    @staticmethod
    def backward(ctx, lam: torch.Tensor):
        out, *saved = ctx.saved_tensors
        saved = iter(saved)
        operands = [next(saved) if present else None for present in ctx.present]
        grads: list = [None] * len(operands)
        psi = out
        for i in reversed(range(len(operands))):
            step, m = ctx.steps[i], operands[i]
            psi = step.kernel.apply(psi, m, inverse=True)  # the state before step i
            if m is not None and ctx.needs_input_grad[2 + i]:
                g = step.kernel.grad(lam, psi, shared=m.dim() == (1 if step.diagonal else 2))
                grads[i] = g
            lam = step.kernel.apply(lam, m, inverse=True)
        return (None, lam if ctx.needs_input_grad[1] else None, *grads)


def _device_of(*tensors) -> torch.device:
    for t in tensors:
        if torch.is_tensor(t):
            return t.device
        if isinstance(t, dict):
            for v in t.values():
                if torch.is_tensor(v):
                    return v.device
    return torch.device("cpu")


def check_params(circuit: Circuit, params, real_dtype, device) -> torch.Tensor | None:
    """Parameters as a real tensor (p,) or (batch, p), ordered like ``circuit.parameters``."""
    names = circuit.parameters
    if params is None:
        if names:
            raise ValueError(f"the circuit has {len(names)} trainable parameter(s) {list(names)[:5]}"
                             f"{'...' if len(names) > 5 else ''} but no params were given")
        return None
    if isinstance(params, dict):
        missing = [n for n in names if n not in params]
        if missing:
            raise ValueError(f"params has no value for {missing}")
        unknown = [n for n in params if n not in names]
        if unknown:
            raise ValueError(f"unknown parameter name(s) {unknown}; the circuit's parameters are {list(names)}")
        params = torch.stack([torch.as_tensor(params[n], dtype=real_dtype, device=device) for n in names],
                             dim=-1)
    params = torch.as_tensor(params, device=device)
    if params.is_complex():
        raise ValueError("params must be real")
    params = params.to(real_dtype)
    if params.dim() not in (1, 2) or params.shape[-1] != len(names):
        raise ValueError(f"params must have shape ({len(names)},) or (batch, {len(names)}) for the "
                         f"circuit's {len(names)} parameters, got {tuple(params.shape)}")
    if not torch.isfinite(params).all():
        raise ValueError("params contain NaN or infinite values")
    return params if names else None


def check_inputs(circuit: Circuit, inputs, real_dtype, device) -> torch.Tensor | None:
    need = circuit.n_inputs
    if inputs is None:
        if need:
            raise ValueError(f"the circuit reads {need} input feature(s) but no inputs were given")
        return None
    inputs = torch.as_tensor(inputs, device=device)
    if inputs.dim() == 1:
        inputs = inputs.unsqueeze(0)
    if inputs.dim() != 2 or inputs.shape[1] < need:
        raise ValueError(f"inputs must have shape (batch, >= {need}) for the circuit's {need} "
                         f"input feature(s), got {tuple(inputs.shape)}")
    if inputs.is_complex():
        raise ValueError("inputs must be real")
    inputs = inputs.to(real_dtype)
    if not torch.isfinite(inputs).all():
        raise ValueError("inputs contain NaN or infinite values")
    return inputs


def check_batch(params, inputs, initial_state, errors=None) -> int:
    sizes = {}
    if errors is not None:
        sizes["errors"] = errors.batch
    if params is not None and params.dim() == 2:
        sizes["params"] = params.shape[0]
    if inputs is not None:
        sizes["inputs"] = inputs.shape[0]
    if initial_state is not None:
        sizes["initial_state"] = initial_state.shape[0]
    if len(set(sizes.values())) > 1:
        raise ValueError(f"batch sizes differ: {sizes}")
    batch = next(iter(sizes.values()), 1)
    if batch < 1:
        raise ValueError("the batch is empty")
    return batch


def check_size(n: int, batch: int, dtype, device) -> None:
    """A clear error when the states cannot fit in the device's memory."""
    itemsize = torch.empty(0, dtype=dtype).element_size()
    if batch * itemsize * 2 ** n < 2 ** 28:  # under 256 MiB: no need to ask the device
        return
    limit = kernels.max_qubits_for(batch, itemsize, device)
    if n > limit:
        need = batch * itemsize * 2 ** n / 2 ** 30
        raise ValueError(f"{n} qubits need {need:.3g} GiB for a batch of {batch} states; this {device.type} "
                         f"device holds at most {limit} qubits")


def zero_state(n: int, batch: int, dtype, device) -> torch.Tensor:
    out = torch.zeros(batch, 2 ** n, dtype=dtype, device=device)
    out[:, 0] = 1
    return out


def initial(n: int, state, dtype, device) -> torch.Tensor:
    """Given initial states, checked and cast."""
    state = torch.as_tensor(state, device=device).to(dtype)
    if state.dim() != 2 or state.shape[1] != 2 ** n:
        raise ValueError(f"initial_state must have shape (batch, {2 ** n}), got {tuple(state.shape)}")
    norms = state.abs().pow(2).sum(1)
    if not torch.allclose(norms, torch.ones_like(norms), atol=1e-4 if dtype == torch.complex64 else 1e-10):
        raise ValueError(f"initial_state rows must have norm 1 (found {norms.min().item():.6g} to "
                         f"{norms.max().item():.6g})")
    return state
