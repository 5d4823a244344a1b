"""QOC: training a QNN on the device, by parameter shift, with probabilistic gradient pruning.

The device (a fake backend's Aer noise model, see :mod:`noise.aer`) gives every value the
optimizer sees:

- **Forward**: each node's ``<Z>`` per wire from shots on the device.
- **Gradient**: the parameter-shift rule run on the device. Every gate angle that reads a
  trainable parameter (and, for the second and later nodes of a :class:`qml.model.MultiNodeQNN`,
  every angle that reads an encoded input) is shifted by its gate record's rule, the same
  ``(shift, coefficient)`` terms the engine's exact parameter-shift gradient uses
  (:data:`qml.sim.expectation.SHIFT_RULES`: two terms, four for the half-angle of a controlled
  rotation). The shifted *logical* circuit is what runs: its transpilation to the device's
  basis keeps the angles symbolic, so a shifted row is one more parameter binding of the same
  transpiled circuit. Without noise the rule is exact; with the device's gate noise it stays
  exact for an angle whose transpiled pieces keep the logical gate's frequencies (rotations,
  a controlled rotation's half-angle pieces) and is slightly biased for one spread over several
  rotations with noisy gates between them (a CU3's phi and lambda: ~2e-4 on santiago, far below
  the shot noise; ``tests/noise/test_onchip.py``), as it is on a real chip. A step's unshifted and shifted circuits, for every sample of the batch, run as one
  Aer job (:func:`shift_jacobian`). The classical rest (readout, log-softmax, the loss, the
  functions between nodes) is differentiated by autograd: the device's Jacobians enter as the
  backward pass of :class:`_Measured`.
- **Probabilistic gradient pruning** (:class:`GradientPruner`): an accumulation window of
  ``accumulate`` steps shifts every parameter and adds up each one's ``|gradient|``; a pruning
  window of ``prune`` steps then shifts and updates only ``(1 - ratio) * N`` parameters, drawn
  without replacement with probability proportional to the accumulated ``|gradient|``. The
  accumulator is kept through the pruning window and reset only when the next accumulation
  window starts (resetting it at the start of the pruning window, as the public reference code
  does, would make the draw uniform).

:class:`OnChipQNN` wraps a QNN (or a multi-node QNN) so that :class:`qml.train.Trainer` trains it
unchanged: checkpoints (the pruner's accumulator and the step and circuit counters are buffers
of the module), resume, and per-epoch records of the circuits run and shots spent
(:meth:`OnChipQNN.epoch_metrics`). Call :meth:`OnChipQNN.attach` with the trainer's optimizer so
that a pruned step updates only the parameters it shifted.

Example:
    >>> import torch, qml
    >>> from noise.devices import Device
    >>> c = qml.Circuit(1).ry(0, qml.Input(0)).rx(0, "a")
    >>> z, jac, _, runs = shift_jacobian(c, Device.from_name("santiago"), torch.tensor([0.4]),
    ...                                  torch.tensor([[0.3]]), shots=None)
    >>> runs                                 # the sample, then a +pi/2 and a -pi/2 shift of "a"
    3
    >>> bool(abs(jac[0, 0, 0] - (-torch.sin(torch.tensor(0.4)) * torch.cos(torch.tensor(0.3)))) < 0.05)
    True
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import torch
from torch import nn

from qml.circuit import Circuit, Input, Linear, Param, linear
from qml.model import MultiNodeQNN, QNN
from qml.sim.cache import CircuitCache
from qml.sim.expectation import SHIFT_RULES, _occurrences

_INPUT_PREFIX = "__x"      # an input feature, made a parameter so that it can be shifted too


# --- the device's parameter-shift Jacobian ---------------------------------------------------------

@dataclass(frozen=True)
class _ShiftPlan:
    """A circuit with its inputs made parameters, split into occurrences (one per gate angle)."""

    occurrences: object            # qml.sim.expectation._Occurrences of the symbolic circuit
    param_of: torch.Tensor         # variable -> index in circuit.parameters, or -1
    input_of: torch.Tensor         # variable -> input feature index, or -1


def _build_plan(circuit: Circuit) -> _ShiftPlan:
    clash = [n for n in circuit.parameters if n.startswith(_INPUT_PREFIX)]
    if clash:
        raise ValueError(f"parameter names starting with {_INPUT_PREFIX!r} are reserved for inputs: {clash}")

    def as_param(p):
        if isinstance(p, Input):
            return Param(f"{_INPUT_PREFIX}{p.index}")
        if isinstance(p, Linear):
            return linear([(as_param(s), c) for s, c in p.terms], p.offset)
        return p
    symbolic = Circuit(circuit.n_wires, [replace(op, params=tuple(as_param(p) for p in op.params))
                                         for op in circuit.ops], circuit.global_phase)
    names = symbolic.parameters
    param_of = [circuit.parameters.index(n) if not n.startswith(_INPUT_PREFIX) else -1 for n in names]
    input_of = [int(n[len(_INPUT_PREFIX):]) if n.startswith(_INPUT_PREFIX) else -1 for n in names]
    return _ShiftPlan(_occurrences(symbolic), torch.tensor(param_of), torch.tensor(input_of))


_plans = CircuitCache(_build_plan)


def shift_jacobian(circuit: Circuit, device, params=None, inputs=None, *, wrt_params=None,
                   wrt_inputs: bool = False, shots: int | None = 1024, seed: int = 0,
                   mapping: Sequence[int] | None = None, sampling: str = "probabilities",
                   noise: bool | str = True, threads: int = 1):
    """``<Z>`` per wire and its parameter-shift Jacobians, all from one run on ``device``.

    ``params``: values of ``circuit.parameters`` ``(p,)``; ``inputs``: ``(batch, n_features)``.
    ``wrt_params``: a boolean mask ``(p,)`` of the parameters to differentiate (default all;
    the others' Jacobian columns are zero and their angles are not shifted); ``wrt_inputs``:
    also differentiate the input features. ``shots``, ``seed``, ``mapping``, ``sampling``,
    ``noise`` and ``threads`` are those of :func:`noise.aer.expectations` (``shots=None``: exact
    noisy expectations, for tests).

    Returns ``(z, jac_params, jac_inputs, circuits)``: ``z`` ``(batch, n_wires)``,
    ``jac_params`` ``(batch, n_wires, p)``, ``jac_inputs`` ``(batch, n_wires, n_features)`` or
    ``None``, and the number of circuits run (one per sample and shifted term).
    """
    from noise.aer import expectations

    plan = _plans(circuit)
    occ = plan.occurrences
    n_params = len(circuit.parameters)
    params = torch.zeros(0, dtype=torch.float64) if params is None else \
        torch.as_tensor(params).detach().double().reshape(-1)
    if params.numel() != n_params:
        raise ValueError(f"params must hold the circuit's {n_params} parameter values, got {params.numel()}")
    n_features = 0 if inputs is None else torch.as_tensor(inputs).shape[-1]
    if circuit.n_inputs and inputs is None:
        raise ValueError(f"the circuit reads {circuit.n_inputs} input feature(s) but no inputs were given")
    inputs = torch.zeros(1, 0, dtype=torch.float64) if inputs is None else \
        torch.as_tensor(inputs).detach().double().reshape(-1, n_features)
    batch = inputs.shape[0]
    if wrt_params is None:
        wrt_params = torch.ones(n_params, dtype=torch.bool)
    wrt_params = torch.as_tensor(wrt_params, dtype=torch.bool).reshape(-1)
    if wrt_params.numel() != n_params:
        raise ValueError(f"wrt_params must be a mask of {n_params} entries, got {wrt_params.numel()}")
    # the variables of the symbolic circuit, per sample: parameters and input features
    variables = torch.zeros(batch, len(plan.param_of), dtype=torch.float64)
    is_param, is_input = plan.param_of >= 0, plan.input_of >= 0
    variables[:, is_param] = params[plan.param_of[is_param]]
    variables[:, is_input] = inputs[:, plan.input_of[is_input]]
    wanted = torch.zeros(len(plan.param_of), dtype=torch.bool)
    wanted[is_param] = wrt_params[plan.param_of[is_param]]
    if wrt_inputs:
        wanted[is_input] = True
    values = occ.values(variables, None) if occ.rules else torch.zeros(batch, 0, dtype=torch.float64)
    k_col, j_col, c_col = occ.from_params
    shifted_occ = sorted({int(k) for k, j in zip(k_col, j_col) if wanted[j]})
    rows, terms = [values], []
    for k in shifted_occ:
        for shift, coeff in SHIFT_RULES[occ.rules[k]]:
            v = values.clone()
            v[:, k] += shift
            rows.append(v)
            terms.append((k, coeff))
    table = torch.cat(rows)
    z_all = expectations(occ.circuit, device, table if occ.rules else None, None if occ.rules else
                         torch.zeros(len(table), 0), shots=shots, seed=seed, mapping=mapping, noise=noise,
                         sampling=sampling, chunk_size=max(len(table), 1), progress=False, threads=threads)
    m = circuit.n_wires
    f = z_all.reshape(len(rows), batch, m)
    d_occ = torch.zeros(batch, m, len(occ.rules), dtype=torch.float64)   # d<Z>/d(occurrence)
    for t, (k, coeff) in enumerate(terms):
        d_occ[:, :, k] += coeff * f[1 + t]
    d_var = torch.zeros(batch, m, len(plan.param_of), dtype=torch.float64)
    if len(k_col):
        d_var.index_add_(2, j_col, d_occ[:, :, k_col] * c_col)
    d_var[:, :, ~wanted] = 0
    jac_params = torch.zeros(batch, m, n_params, dtype=torch.float64)
    jac_params[:, :, plan.param_of[is_param]] = d_var[:, :, is_param]
    jac_inputs = None
    if wrt_inputs:
        jac_inputs = torch.zeros(batch, m, n_features, dtype=torch.float64)
        jac_inputs[:, :, plan.input_of[is_input]] = d_var[:, :, is_input]
    return f[0], jac_params, jac_inputs, len(table)


class _Measured(torch.autograd.Function):
    """Device values in the forward pass, the device's Jacobians in the backward pass."""

    @staticmethod
    def forward(ctx, params, inputs, z, jac_params, jac_inputs):
        ctx.shared = params.dim() == 1
        ctx.save_for_backward(jac_params, jac_inputs if jac_inputs is not None else torch.zeros(0))
        ctx.has_inputs = jac_inputs is not None
        return z.to(params.dtype).clone()

    @staticmethod
    def backward(ctx, grad):
        jac_params, jac_inputs = ctx.saved_tensors
        g = grad.to(jac_params.dtype)
        grad_params = torch.einsum("bm,bmp->p", g, jac_params)
        grad_inputs = None
        if ctx.has_inputs and ctx.needs_input_grad[1]:
            grad_inputs = torch.einsum("bm,bmf->bf", g, jac_inputs).to(grad.dtype)
        return grad_params.to(grad.dtype), grad_inputs, None, None, None


# --- probabilistic gradient pruning ------------------------------------------------------------

class GradientPruner(nn.Module):
    """QOC's probabilistic gradient pruning over ``n_params`` parameters.

    Steps cycle through an accumulation window (``accumulate`` steps: every parameter is
    shifted, ``|gradient|`` added to the accumulator) and a pruning window (``prune`` steps:
    :meth:`mask` keeps ``max(1, round((1 - ratio) * n_params))`` parameters, drawn without
    replacement with probability proportional to the accumulator). The accumulator is reset at
    the first step of each accumulation window, never at the start of a pruning window. The
    draws are seeded by ``seed`` and the step, so a resumed run draws what the killed one would.

    Example:
        >>> p = GradientPruner(4, ratio=0.5, accumulate=1, prune=2, seed=0)
        >>> p.mask().tolist()                               # accumulation: all parameters
        [True, True, True, True]
        >>> p.record(torch.tensor([0.0, 0.0, 5.0, 1e-9])); p.advance()
        >>> p.mask().tolist()                               # pruning: 2 of 4, the large gradient first
        [False, False, True, True]
    """

    def __init__(self, n_params: int, ratio: float = 0.5, accumulate: int = 1, prune: int = 2, seed: int = 0):
        super().__init__()
        if isinstance(n_params, bool) or not isinstance(n_params, int) or n_params < 1:
            raise ValueError(f"gradient pruning needs at least one parameter, got n_params={n_params!r}")
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 <= ratio < 1:
            raise ValueError(f"the pruning ratio r must be in [0, 1) (the share of parameters left out "
                             f"in a pruning step), got {ratio!r}")
        for name, value in (("accumulation window", accumulate), ("pruning window", prune)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"the {name} must be a positive number of steps, got {value!r}")
        self.n_params, self.ratio, self.accumulate, self.prune, self.seed = \
            n_params, float(ratio), accumulate, prune, int(seed)
        self.kept = max(1, round((1 - self.ratio) * n_params))
        self.register_buffer("accumulated", torch.zeros(n_params, dtype=torch.float64))
        self.register_buffer("step", torch.zeros((), dtype=torch.long))

    @property
    def accumulating(self) -> bool:
        """Whether the current step is in an accumulation window."""
        return int(self.step) % (self.accumulate + self.prune) < self.accumulate

    def mask(self) -> torch.Tensor:
        """The parameters shifted and updated at the current step (a boolean mask)."""
        if self.accumulating:
            return torch.ones(self.n_params, dtype=torch.bool)
        weights = self.accumulated.clone()
        total = float(weights.sum())
        # a zero accumulator (no gradient yet) draws uniformly; zeros get a floor far below any
        # gradient so that the draw without replacement can always fill ``kept``
        weights += (total if total > 0 else 1.0) * 1e-12
        gen = torch.Generator().manual_seed(_derived_seed(self.seed, int(self.step), 1))
        chosen = torch.multinomial(weights, self.kept, replacement=False, generator=gen)
        out = torch.zeros(self.n_params, dtype=torch.bool)
        out[chosen] = True
        return out

    def record(self, grad: torch.Tensor) -> None:
        """Add ``|grad|`` to the accumulator (in an accumulation window; reset at its first step)."""
        if not self.accumulating:
            return
        if int(self.step) % (self.accumulate + self.prune) == 0:
            self.accumulated.zero_()
        self.accumulated += grad.detach().abs().reshape(-1).to(self.accumulated)

    def advance(self) -> None:
        self.step += 1

    def circuits_fraction(self) -> float:
        """Expected share of the shifted parameters per step over a whole cycle."""
        period = self.accumulate + self.prune
        return (self.accumulate + self.prune * self.kept / self.n_params) / period

    def extra_repr(self) -> str:
        return f"n_params={self.n_params}, r={self.ratio}, w_a={self.accumulate}, w_p={self.prune}"


def _derived_seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0] >> 1)


# --- a QNN trained on the device ---------------------------------------------------------------

class OnChipQNN(nn.Module):
    """A :class:`QNN` or :class:`MultiNodeQNN` whose forward values and gradients come from ``device``.

    In training mode (with gradients on) each forward call is one optimizer step: the batch's
    unshifted and shifted circuits run as one Aer job per node (:func:`shift_jacobian`). In
    evaluation mode it only measures ``<Z>`` (one circuit per sample and node). ``mapping``:
    logical wire -> physical qubit of every node (default: the layout the transpiler picks for
    the first node's circuit, kept fixed for training and evaluation). ``pruner``: a
    :class:`GradientPruner` over all the nodes' weights, or ``None``.
    """

    def __init__(self, model: QNN | MultiNodeQNN, device, *, shots: int = 1024,
                 mapping: Sequence[int] | None = None, pruner: GradientPruner | None = None,
                 sampling: str = "probabilities", seed: int = 0, threads: int = 1):
        super().__init__()
        from noise.aer import transpile_for

        if not isinstance(model, (QNN, MultiNodeQNN)):
            raise ValueError(f"expected a qml.model.QNN or MultiNodeQNN, got {type(model).__name__}")
        if isinstance(shots, bool) or not isinstance(shots, int) or shots < 1:
            raise ValueError(f"shots must be a positive integer (the device is sampled), got {shots!r}")
        self.model, self.device = model, device
        self.nodes = list(model.nodes) if isinstance(model, MultiNodeQNN) else [model]
        if self.nodes[-1].readout is None:
            raise ValueError("the last node has no readout: an on-chip classifier needs one")
        self.sizes = [len(node.names) for node in self.nodes]
        if pruner is not None and pruner.n_params != sum(self.sizes):
            raise ValueError(f"the pruner is for {pruner.n_params} parameters but the model has "
                             f"{sum(self.sizes)}")
        self.pruner = pruner
        self.shots, self.sampling, self.seed, self.threads = shots, sampling, int(seed), threads
        self.mapping = tuple(mapping) if mapping is not None else \
            transpile_for(self.nodes[0].template, device, seed=self.seed).initial
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))
        self.register_buffer("circuits", torch.zeros((), dtype=torch.long))        # training
        self.register_buffer("eval_circuits", torch.zeros((), dtype=torch.long))
        self.register_buffer("epoch_start", torch.zeros(2, dtype=torch.long))
        self._mask: torch.Tensor | None = None
        self._before: list[torch.Tensor] = []

    @property
    def n_features(self) -> int:
        return self.nodes[0].n_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from noise.aer import expectations

        training = self.training and torch.is_grad_enabled()
        mask = None
        if training:
            mask = self.pruner.mask() if self.pruner is not None else torch.ones(sum(self.sizes), dtype=torch.bool)
            self._mask = mask
        masks = torch.split(mask, self.sizes) if mask is not None else [None] * len(self.nodes)
        h = x
        for k, (node, node_mask) in enumerate(zip(self.nodes, masks)):
            features = node.encoder.features(h.to(node.weights.dtype))
            if training:
                seed = _derived_seed(self.seed, int(self.steps), k)
                z, jac, jac_in, runs = shift_jacobian(
                    node.template, self.device, node.weights.detach(), features.detach(), wrt_params=node_mask,
                    wrt_inputs=k > 0, shots=self.shots, seed=seed, mapping=self.mapping,
                    sampling=self.sampling, threads=self.threads)
                z = _Measured.apply(node.weights, features, z, jac, jac_in)
                self.circuits += runs
            else:
                with torch.no_grad():
                    z = expectations(node.template, self.device, node.weights.detach().double(),
                                     features.detach(), shots=self.shots, seed=_derived_seed(self.seed, 2 ** 31, k),
                                     mapping=self.mapping, sampling=self.sampling, progress=False,
                                     threads=self.threads).to(node.weights.dtype)
                self.eval_circuits += len(z)
            if k + 1 < len(self.nodes):
                between = getattr(self.model, "between", None)
                h = between(k, z) if between else z
        if training:
            self.steps += 1
        return torch.log_softmax(self.nodes[-1].readout(z), dim=1)

    def weights(self) -> list[nn.Parameter]:
        return [node.weights for node in self.nodes]

    def attach(self, optimizer: torch.optim.Optimizer) -> None:
        """Hook ``optimizer`` so that a step records the gradients for the pruner and updates only
        the parameters the step shifted (the others are put back after the optimizer's step)."""
        optimizer.register_step_pre_hook(lambda *_: self._before_step())
        optimizer.register_step_post_hook(lambda *_: self._after_step())

    def _before_step(self) -> None:
        self._before = [w.detach().clone() for w in self.weights()]
        if self.pruner is not None:
            grads = [w.grad if w.grad is not None else torch.zeros_like(w) for w in self.weights()]
            self.pruner.record(torch.cat([g.reshape(-1) for g in grads]))

    def _after_step(self) -> None:
        if self._mask is not None and not bool(self._mask.all()):
            with torch.no_grad():
                for w, before, keep in zip(self.weights(), self._before, torch.split(self._mask, self.sizes)):
                    w[~keep] = before[~keep]
        if self.pruner is not None:
            self.pruner.advance()
        self._mask = None

    def epoch_metrics(self) -> dict:
        """Circuits run and shots spent since the last call (training, and evaluation apart);
        :class:`qml.train.Trainer` adds them to each epoch's record."""
        now = torch.stack([self.circuits, self.eval_circuits])
        train, evaluation = (now - self.epoch_start).tolist()
        self.epoch_start.copy_(now)
        return {"circuits": train, "shots": train * self.shots, "eval_circuits": evaluation,
                "total_circuits": int(self.circuits), "total_shots": int(self.circuits) * self.shots}


def circuits_per_step(model: QNN | MultiNodeQNN, batch: int, mask=None) -> int:
    """Circuits one training step runs for ``batch`` samples when ``mask`` (default: all) of the
    parameters are shifted: per sample, one unshifted circuit per node plus one per shift term."""
    nodes = list(model.nodes) if isinstance(model, MultiNodeQNN) else [model]
    sizes = [len(n.names) for n in nodes]
    mask = torch.ones(sum(sizes), dtype=torch.bool) if mask is None else torch.as_tensor(mask, dtype=torch.bool)
    total = 0
    for k, (node, node_mask) in enumerate(zip(nodes, torch.split(mask, sizes))):
        plan = _plans(node.template)
        occ = plan.occurrences
        k_col, j_col, _ = occ.from_params
        wanted = torch.zeros(len(plan.param_of), dtype=torch.bool)
        is_param = plan.param_of >= 0
        wanted[is_param] = node_mask[plan.param_of[is_param]]
        if k > 0:
            wanted[plan.input_of >= 0] = True
        shifted = {int(kk) for kk, j in zip(k_col, j_col) if wanted[j]}
        total += batch * (1 + sum(len(SHIFT_RULES[occ.rules[kk]]) for kk in shifted))
    return total


__all__ = ["shift_jacobian", "GradientPruner", "OnChipQNN", "circuits_per_step"]
