"""Compiling a Circuit into steps, and building all gate matrices of a call at once.

The plan depends only on the circuit's structure and is cached on the circuit. Per
call, :meth:`Plan.operands` gathers every parameter (constants, trainable values,
input features) with one index per gate kind and builds all matrices of that kind in
one vectorised call, so the Python work per call is per gate kind, never per sample.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import torch

from qml.circuit import Circuit, Input, Op, Param
from qml.sim import kernels

_PERM_KINDS = {"x": 0, "cx": 0, "ccx": 0, "mcx": 0, "swap": 1, "cswap": 2}


@dataclass
class Step:
    """One pass over the state: a kernel and where its operand comes from."""

    kernel: object
    op_index: int | None     # index into the plan's gate list (None for a fused permutation)
    diagonal: bool = False

    @property
    def trainable(self) -> bool:
        return self.op_index is not None


class Plan:
    """The steps of a circuit and the gather indices of its parameters."""

    def __init__(self, circuit: Circuit):
        self.circuit = circuit
        self.n = circuit.n_wires
        self.names = circuit.parameters
        self.gates = circuit.gates
        self.consts = [p for op in self.gates for p in op.params if isinstance(p, float)]
        self.steps = self._compile()
        self._groups: dict = {}

    def _compile(self) -> list[Step]:
        steps: list[Step] = []
        run: list[tuple[int, tuple[int, ...]]] = []  # consecutive permutation gates

        def flush():
            if run:
                steps.append(Step(kernels.Permutation(self.n, kernels.permutation_index(self.n, run)), None))
                run.clear()

        for i, op in enumerate(self.gates):
            if op.name in _PERM_KINDS:
                run.append((_PERM_KINDS[op.name], op.wires))
                continue
            if op.name == "id":
                continue
            flush()
            diagonal = op.name != "unitary" and op.gate.diagonal
            kernel = (kernels.Diagonal if diagonal else kernels.Dense)(self.n, op.wires)
            steps.append(Step(kernel, i, diagonal))
        flush()
        return steps

    def _sources(self, op: Op, consts: iter, per_sample_params: bool):
        """Where each parameter of ``op`` comes from: ('const'|'param'|'input', index)."""
        out = []
        for p in op.params:
            if isinstance(p, Param):
                out.append(("param", self.names.index(p.name)))
            elif isinstance(p, Input):
                out.append(("input", p.index))
            else:
                out.append(("const", next(consts)))
        batched = any(k == "input" or (k == "param" and per_sample_params) for k, _ in out)
        return out, batched

    def groups(self, per_sample_params: bool, device: torch.device):
        """Gate kinds with their ops and gather indices, for one parameter layout and device.

        Shared table: [constants, params]; per-sample table: [constants, params
        (expanded to the batch when shared), inputs].
        """
        key = (per_sample_params, device)
        if key in self._groups:
            return self._groups[key]
        n_const, n_param = len(self.consts), len(self.names)
        consts = iter(range(n_const))
        grouped = defaultdict(list)
        constant_ops = []
        for i, op in enumerate(self.gates):
            if op.name == "unitary" or not op.params:
                constant_ops.append(i)
                continue
            sources, batched = self._sources(op, consts, per_sample_params)
            offsets = {"const": 0, "param": n_const, "input": n_const + n_param}
            grouped[(op.name, batched)].append((i, [offsets[k] + j for k, j in sources]))
        groups = [(name, batched, [i for i, _ in items],
                   torch.tensor([idx for _, idx in items], dtype=torch.int64, device=device))
                  for (name, batched), items in grouped.items()]
        self._groups[key] = (groups, constant_ops)
        return self._groups[key]

    def operands(self, params: torch.Tensor | None, inputs: torch.Tensor | None, batch: int,
                 real_dtype: torch.dtype, device: torch.device) -> list:
        """The operand of every step: a matrix, a diagonal, or None for permutations."""
        per_sample = params is not None and params.dim() == 2
        groups, constant_ops = self.groups(per_sample, device)
        consts = torch.tensor(self.consts, dtype=real_dtype, device=device)
        shared_parts = [consts] + ([params] if params is not None and not per_sample else [])
        shared_table = torch.cat(shared_parts)
        batch_table = None
        if any(batched for _, batched, _, _ in groups):
            parts = [consts.expand(batch, -1)]
            if params is not None:
                parts.append(params if per_sample else params.expand(batch, -1))
            if inputs is not None:
                parts.append(inputs)
            batch_table = torch.cat(parts, dim=1)
        matrices: dict[int, torch.Tensor] = {}
        for name, batched, op_ids, index in groups:
            gate = self.gates[op_ids[0]].gate
            mats = gate.matrix(batch_table[:, index] if batched else shared_table[index])
            for slot, i in enumerate(op_ids):
                matrices[i] = mats[:, slot] if batched else mats[slot]
        cdtype = torch.complex128 if real_dtype == torch.float64 else torch.complex64
        for i in constant_ops:
            op = self.gates[i]
            if op.name == "unitary":
                matrices[i] = torch.tensor(op.matrix, dtype=cdtype, device=device)
            else:
                matrices[i] = op.gate.matrix(torch.zeros(0, dtype=real_dtype, device=device))
        out = []
        for step in self.steps:
            if not step.trainable:
                out.append(None)
                continue
            m = matrices[step.op_index]
            if self.gates[step.op_index].adjoint:
                m = m.conj().transpose(-1, -2)
            out.append(torch.diagonal(m, dim1=-2, dim2=-1) if step.diagonal else m)
        return out

    def run(self, state: torch.Tensor, operands: list) -> torch.Tensor:
        for step, m in zip(self.steps, operands):
            state = step.kernel.apply(state, m)
        return state


def plan_for(circuit: Circuit) -> Plan:
    """The cached plan of ``circuit`` (rebuilt after the circuit changes)."""
    plan = circuit._cache.get("plan")
    if plan is None:
        plan = circuit._cache["plan"] = Plan(circuit)
    return plan
