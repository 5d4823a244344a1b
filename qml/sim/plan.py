"""Compiling a Circuit into steps, and building all operands of a call with a few gathers.

Compilation:

* **Product-state prefix.** From ``|0...0>`` the leading single-qubit gates (an angle
  encoder, typically) leave a product state: they act on one 2-vector per wire, a
  layer at a time, and the state is the Kronecker product of those vectors. When some
  are per sample, the prefix ends with the last of those.
* **Fusion.** Shared-parameter gates are packed greedily into blocks of at most
  ``FUSE_WIDTH`` wires: a gate joins the latest block on its wires when the block stays
  narrow enough (gates on other wires commute past it), or else the most recent block.
  A layer of rotations and its entanglers then costs a few passes over the state.
  Diagonal blocks are one product; a permutation wider than a block (a many-controlled
  X) is one index gather; per-sample gates (inputs, per-sample parameters) stay single
  steps.

Per call, the matrices of all gates are built by two :class:`qml.gates.TrigTable`
evaluations (shared, per sample), each one autograd node, straight into two flat
buffers; each step's operand is then a single gather from them with an index fixed at compile time (adjoint ops read a transposed
index into a conjugated copy), and a block's matrix is the tree product of its gates
embedded by that gather. Everything is differentiable: autograd, or the adjoint
method's dL/d(operand), reaches every angle. A call with neither parameters nor inputs
reuses the operands it built the first time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import torch

from qml.circuit import Circuit, Input, Linear, Op, Param, symbols
from qml.gates import TrigTable
from qml.sim import kernels, workspace
from qml.sim.cache import CircuitCache

FUSE_WIDTH = 5
COMPILE_NOTICE = 20_000  # gates: compiling takes a second or more, so a progress bar shows it
SITE_WIDTH = 2          # blocks holding error sites: their operand is a product per sample


@dataclass
class Step:
    """One pass over the state: a kernel and the gates whose product it applies."""

    kernel: object
    ops: tuple[int, ...]                    # indices into the plan's gate list
    diagonal: bool = False
    batched: bool = False                   # operand per sample (a single per-sample gate)
    constant: bool = False                  # the operand depends on no parameter or input
    site: int = -1                          # a Pauli error site: its column of the draws
    noisy: tuple = ()                       # sites inside the block: (gates before it, site, Pauli table)
    _index: dict = field(default_factory=dict, repr=False)

    @property
    def trainable(self) -> bool:
        return self.kernel.has_operand


@dataclass
class _Block:
    wires: set
    ops: list
    fusable: bool
    site: int = -1
    site_wires: tuple = ()
    sites: list = field(default_factory=list)   # (gates before it, site, wires): errors inside the block


class _Layout:
    """Where each gate's matrix lies in the call's flat buffers, for one parameter layout.

    Shared buffer (entries,): the shared gates' matrices, then the parameter-free matrices,
    then the scalars 0 and 1; followed, when some gate is an adjoint, by its conjugate.
    Per-sample buffer (entries, batch): the per-sample gates' matrices (then their
    conjugates), entries first so that every gather picks whole rows.
    """

    def __init__(self, plan: "Plan", per_sample: bool):
        n_const, n_param = len(plan.consts), len(plan.names)
        # the per-sample table reads the parameters only when some per-sample gate does
        self.batched_params = any(plan.batched(op, per_sample) and _reads(op, Param) for op in plan.gates)
        offsets = {"const": 0, "param": n_const, "input": n_const + (n_param if self.batched_params else 0)}
        consts = iter(range(n_const))
        position = {name: j for j, name in enumerate(plan.names)}
        items = {False: [], True: []}         # per buffer: (op index, gate, source of each parameter)
        self.fixed = []                       # parameter-free ops, in order
        for i, op in enumerate(plan.gates):
            if not op.params:
                if not _gathered(op):
                    self.fixed.append(i)
                continue
            def source(s):
                return offsets["param"] + position[s.name] if isinstance(s, Param) \
                    else offsets["input"] + s.index
            sources = [[(next(consts), 1.0)] if not symbols(p) else
                       [(source(s), c) for s, c in p.terms] + ([(next(consts), 1.0)] if p.offset else [])
                       if isinstance(p, Linear) else [(source(p), 1.0)] for p in op.params]
            items[plan.batched(op, per_sample)].append((i, op.gate, sources))
        n_sources = {False: n_const + (0 if per_sample else n_param), True: offsets["input"] + plan.n_inputs}
        self.tables = {b: TrigTable([(g, src) for _, g, src in items[b]], n_sources[b]) if items[b] else None
                       for b in (False, True)}
        self.where: dict[int, tuple[bool, int]] = {}   # op -> (batched, offset)
        size = {False: 0, True: 0}
        for b in (False, True):
            for i, _, _ in items[b]:
                self.where[i] = (b, size[b])
                size[b] += plan.dim(i) ** 2
        for i in self.fixed:
            self.where[i] = (False, size[False])
            size[False] += plan.dim(i) ** 2
        self.zero, self.one = size[False], size[False] + 1
        self.size = {False: size[False] + 2, True: size[True]}
        self.conj = {b: any(plan.gates[i].adjoint for i, (bb, _) in self.where.items() if bb == b)
                     for b in (False, True)}

    def entries(self, plan: "Plan", i: int, row: int, col: int) -> int:
        """Position of entry (row, col) of op i's (possibly adjoint) matrix in its buffer."""
        batched, offset = self.where[i]
        d = plan.dim(i)
        if plan.gates[i].adjoint:
            return self.size[batched] + offset + col * d + row
        return offset + row * d + col


class Plan:
    """The steps of a circuit for each parameter layout, and how to build their operands."""

    def __init__(self, circuit: Circuit):
        self.n = circuit.n_wires
        self.names = circuit.parameters
        kept = [(i, op) for i, op in enumerate(circuit.ops) if not op.is_directive and op.name != "id"]
        self.gates = [op for _, op in kept]
        self.op_index = [i for i, _ in kept]            # plan gate -> index in circuit.ops
        self.n_ops = len(circuit.ops)
        self.consts = [p.offset if isinstance(p, Linear) else p for op in self.gates for p in op.params
                       if not symbols(p) or isinstance(p, Linear) and p.offset]
        self.n_inputs = circuit.n_inputs
        self.real = all(_is_real(op) for op in self.gates)
        self.single_qubit_run = next((i for i, op in enumerate(self.gates) if len(op.wires) > 1),
                                     len(self.gates))
        self._compiled: dict = {}
        self._layouts: dict = {}
        self._cache: dict = {}  # per-call constants: fixed buffers, prefix indices, constant operands

    def dim(self, i: int) -> int:
        return 2 ** len(self.gates[i].wires)

    def batched(self, op: Op, per_sample: bool) -> bool:
        return _reads(op, Input) or (per_sample and _reads(op, Param))

    def layout(self, per_sample: bool) -> _Layout:
        if per_sample not in self._layouts:
            self._layouts[per_sample] = _Layout(self, per_sample)
        return self._layouts[per_sample]

    def compiled(self, per_sample: bool, from_zero: bool, sites: tuple = ()) -> tuple[int, list[Step]]:
        """(number of prefix gates, steps) for a parameter layout; from_zero: start in |0...0>;
        ``sites``: Pauli error sites ``(after op, wires)``, each a step of its own."""
        key = (per_sample, from_zero, sites)
        if key not in self._compiled:
            positions = [self._position(after) for after, _ in sites]   # plan gates before each site
            start = self.prefix_length(per_sample) if from_zero else 0
            start = min([start, *positions])
            self._compiled[key] = (start, self._fuse(range(start, len(self.gates)), per_sample,
                                                     list(zip(positions, sites))))
        return self._compiled[key]

    def _position(self, after: int) -> int:
        if not isinstance(after, int) or not 0 <= after < self.n_ops:
            raise ValueError(f"an error site follows op {after!r}, but the circuit has {self.n_ops} ops")
        return sum(1 for i in self.op_index if i <= after)

    def prefix_length(self, per_sample: bool) -> int:
        """Leading single-qubit gates to apply as a product state: all of them when none is
        per sample, else up to the last per-sample one (shared gates fuse better into blocks)."""
        run = range(self.single_qubit_run)
        batched = [i for i in run if self.batched(self.gates[i], per_sample)]
        return batched[-1] + 1 if batched else self.single_qubit_run

    def _fuse(self, order, per_sample: bool, sites=()) -> list[Step]:
        width = min(self.n, FUSE_WIDTH)
        blocks: list[_Block] = []
        owner: dict[int, int] = {}
        pending = sorted(((pos, k, wires) for k, (pos, (_, wires)) in enumerate(sites)), reverse=True)

        def joinable(b: int, wires: set) -> bool:
            if b < 0 or not blocks[b].fusable:
                return False
            return len(blocks[b].wires | wires) <= (SITE_WIDTH if blocks[b].sites else width)

        def add_sites(before: int) -> None:        # the sites that follow plan gates < before
            while pending and pending[-1][0] <= before:
                _, k, wires = pending.pop()
                owners = {owner.get(w, -1) for w in wires}
                b = owners.pop() if len(owners) == 1 else -1
                if b >= 0 and blocks[b].fusable and len(blocks[b].wires) <= SITE_WIDTH:
                    blocks[b].sites.append((len(blocks[b].ops), k, wires))   # a factor of the block
                    continue
                blocks.append(_Block(set(wires), [], False, site=k, site_wires=wires))
                for w in wires:
                    owner[w] = len(blocks) - 1

        for i in order:
            add_sites(i)
            op = self.gates[i]
            wires = set(op.wires)
            fusable = not self.batched(op, per_sample)
            latest_owner = max((owner[w] for w in wires if w in owner), default=-1)
            target = -1
            if fusable:
                target = latest_owner if joinable(latest_owner, wires) else \
                    len(blocks) - 1 if joinable(len(blocks) - 1, wires) else -1
            if target >= 0:
                blocks[target].wires |= wires
                blocks[target].ops.append(i)
            else:
                blocks.append(_Block(wires, [i], fusable))
                target = len(blocks) - 1
            for w in wires:
                owner[w] = target
        add_sites(len(self.gates))
        return [self._step(b) for b in blocks]

    def _step(self, block: _Block) -> Step:
        if block.site >= 0:
            return Step(kernels.KERNELS["pauli"](self.n, block.site_wires), (), batched=True,
                        site=block.site)
        ops = [self.gates[i] for i in block.ops]
        constant = not any(_reads(op, (Param, Input)) for op in ops)
        if block.sites:
            wires = tuple(sorted(block.wires))
            noisy = tuple((before, k, _pauli_table(wires, site_wires)) for before, k, site_wires in block.sites)
            return Step(kernels.KERNELS["dense"](self.n, wires), tuple(block.ops), noisy=noisy)
        if len(ops) == 1 and _gathered(ops[0]):  # only a single gate makes a block this wide
            kernel = kernels.KERNELS["permutation"](self.n, ops[0].wires, ops[0].gate.perm)
            return Step(kernel, tuple(block.ops), constant=True)
        diagonal = all(op.gate.diagonal for op in ops)
        wires = tuple(sorted(block.wires)) if len(ops) > 1 else ops[0].wires
        kernel = kernels.KERNELS["diagonal" if diagonal else "dense"](self.n, wires)
        return Step(kernel, tuple(block.ops), diagonal, not block.fusable, constant)

    # --- indices (compile time) --------------------------------------------------------------

    def _step_index(self, step: Step, layout: _Layout) -> torch.Tensor:
        """Gather index of the step's operand: (m, D) diagonals or (m, D, D) embedded matrices.

        Gate i on local axes L of the step's k wires: entry (a, b) of its embedding is its
        matrix entry (a_L, b_L) where a and b agree off L, and zero elsewhere.
        """
        wires = step.kernel.wires
        patterns, starts = [], []
        for i in step.ops:
            adjoint = self.gates[i].adjoint
            patterns.append(_embedding(len(wires), tuple(wires.index(w) for w in self.gates[i].wires),
                                       step.diagonal, adjoint))
            batched, offset = layout.where[i]
            starts.append(offset + (layout.size[batched] if adjoint else 0))
        local, inside = (torch.stack(t) for t in zip(*patterns))
        shape = (-1,) + (1,) * (local.dim() - 1)
        return torch.where(inside, local + torch.tensor(starts).view(shape), layout.zero)

    def _prefix_index(self, start: int, layout: _Layout) -> torch.Tensor:
        """(layers, n, 2, 2) gather index of the prefix gates, identity where a wire has none."""
        per_wire = defaultdict(list)
        for i in range(start):
            per_wire[self.gates[i].wires[0]].append(i)
        layers = max(len(v) for v in per_wire.values())
        shared = layout.size[False] * (2 if layout.conj[False] else 1)
        index = torch.empty(layers, self.n, 2, 2, dtype=torch.int64)
        for w in range(self.n):
            for layer in range(layers):
                if layer < len(per_wire[w]):
                    i = per_wire[w][layer]
                    batched = layout.where[i][0]
                    for r in range(2):
                        for c in range(2):
                            index[layer, w, r, c] = layout.entries(self, i, r, c) + (shared if batched else 0)
                else:
                    index[layer, w] = torch.tensor([[layout.one, layout.zero], [layout.zero, layout.one]])
        return index

    # --- per call ----------------------------------------------------------------------------

    def prepare(self, params, inputs, batch: int, dtype: torch.dtype, device: torch.device,
                from_zero: bool, errors=None):
        """(initial product state or None, steps, operands, whether the state may be written
        over) for one call; ``errors``: Pauli errors (:class:`qml.sim.errors.PauliErrors`) or None."""
        per_sample = params is not None and params.dim() == 2
        sites = errors.sites if errors is not None else ()
        if len(self.gates) >= COMPILE_NOTICE and (per_sample, from_zero, sites) not in self._compiled:
            self._compile_with_progress(per_sample, from_zero, sites, device)
        start, steps = self.compiled(per_sample, from_zero, sites)
        layout = self.layout(per_sample)
        constant = params is None and inputs is None      # nothing varies: build once, reuse
        key = ("constant", from_zero, dtype, device, sites)
        if constant and key in self._cache:
            shared, operands = self._cache[key]
        else:
            shared, batched = self._buffers(layout, params, inputs, batch, dtype, device)
            operands = [None if not step.trainable or step.site >= 0 else
                        self._operand(step, layout, shared, batched, device, reduce=not step.noisy)
                        for step in steps]
            if constant:
                self._cache[key] = (shared, operands)
        if errors is not None:   # a site where no sample drew an error is skipped
            active = errors.draws.any(0).tolist()
            operands = [_with_errors(step, m, errors.draws, active) if step.noisy else
                        m if step.site < 0 else errors.draws[:, step.site] if active[step.site] else None
                        for step, m in zip(steps, operands)]
        state, owned = None, True
        if start and constant:      # the product state too is built once; runs must not write it
            key = ("constant state", start, dtype, device, batch)
            if key not in self._cache:
                self._cache[key] = self._product_state(start, layout, shared, None, batch, device)
            state, owned = self._cache[key], False
        elif start:
            state = self._product_state(start, layout, shared, batched, batch, device)
        return state, steps, operands, owned

    def _compile_with_progress(self, per_sample: bool, from_zero: bool, sites: tuple, device) -> None:
        """Compile a large circuit (seconds) ahead of its first call, behind a progress bar."""
        from tqdm import tqdm

        with tqdm(total=3, desc=f"compiling {len(self.gates):,} gates", unit="phase", leave=False) as bar:
            layout = self.layout(per_sample)
            bar.update()
            _, steps = self.compiled(per_sample, from_zero, sites)
            bar.update()
            for step in steps:
                if step.trainable and step.site < 0:
                    self._gather_index(step, layout, device)
            bar.update()

    def _gather_index(self, step: Step, layout: _Layout, device) -> torch.Tensor:
        if device not in step._index:
            step._index[device] = self._step_index(step, layout).to(device)
        return step._index[device]

    def _operand(self, step: Step, layout: _Layout, shared, batched, device, reduce: bool = True):
        """The step's operand; with ``reduce=False`` its gate factors (m, D, D), unmultiplied."""
        index = self._gather_index(step, layout, device)
        values = batched[index].movedim(-1, 0) if step.batched else shared[index]
        return _product(values, step.diagonal, step.batched) if reduce else values

    def _buffers(self, layout: _Layout, params, inputs, batch, dtype, device):
        real_dtype = torch.empty(0, dtype=dtype).real.dtype
        key = ("consts", real_dtype, device)
        if key not in self._cache:
            self._cache[key] = torch.tensor(self.consts, dtype=real_dtype, device=device)
        consts = self._cache[key]
        per_sample = params is not None and params.dim() == 2
        shared = [self._fixed_buffer(layout, dtype, device)]
        if layout.tables[False] is not None:
            sources = torch.cat([consts] + ([params] if params is not None and not per_sample else []))
            shared.insert(0, _as(layout.tables[False].columns(sources[:, None])[:, 0], dtype))
        shared = torch.cat(shared) if len(shared) > 1 else shared[0]
        batched = None
        if layout.tables[True] is not None:
            parts = [consts.expand(batch, -1)]
            if params is not None and layout.batched_params:
                parts.append(params if per_sample else params.expand(batch, -1))
            if inputs is not None:
                parts.append(inputs[:, :self.n_inputs])
            batched = _as(layout.tables[True].columns(torch.cat(parts, dim=1).T), dtype)   # (entries, batch)
        if layout.conj[False]:
            shared = torch.cat([shared, shared.conj()])
        if batched is not None and layout.conj[True]:
            batched = torch.cat([batched, batched.conj()])
        return shared, batched

    def _fixed_buffer(self, layout: _Layout, dtype, device) -> torch.Tensor:
        """Parameter-free matrices and the scalars 0, 1 (cached per dtype and device)."""
        key = (id(layout), dtype, device)
        if key not in self._cache:
            real = torch.empty(0, dtype=dtype).real.dtype
            empty = torch.zeros(0, dtype=real, device=device)
            parts = []
            for i in layout.fixed:
                op = self.gates[i]
                m = op.gate.matrix(empty)
                parts.append((m if dtype.is_complex else m.real).to(dtype).reshape(-1))
            parts.append(torch.tensor([0, 1], dtype=dtype, device=device))
            self._cache[key] = torch.cat(parts)
        return self._cache[key]

    def _product_state(self, start, layout, shared, batched, batch, device) -> torch.Tensor:
        key = ("prefix", id(layout), device, start)
        if key not in self._cache:  # gather from one buffer when the prefix reads only that one
            index = self._prefix_index(start, layout)
            shared_len = layout.size[False] * (2 if layout.conj[False] else 1)
            source = "batched" if bool((index >= shared_len).all()) else \
                "shared" if bool((index < shared_len).all()) else "both"
            self._cache[key] = (source, (index - shared_len if source == "batched" else index).to(device))
        source, index = self._cache[key]
        if source == "both":
            values = torch.cat([shared[:, None].expand(-1, batch), batched])
        else:
            values = batched if source == "batched" else shared[:, None]
        mats = values[index]                               # (layers, n, 2, 2, batch or 1)
        vec = mats[0, :, :, 0]                             # (n, 2, batch or 1): the first layer on |0>
        for m in mats[1:]:                                 # then each later layer: v_r = sum_c m_rc v_c
            vec = (m * vec.unsqueeze(1)).sum(2)
        vec = vec.movedim(-1, 0)                           # (batch or 1, n, 2): U_w |0>
        wires = vec.unbind(1)
        state = wires[0]
        for v in wires[1:]:
            state = (state.unsqueeze(2) * v.unsqueeze(1)).reshape(vec.shape[0], -1)
        return state.expand(batch, -1).contiguous() if state.shape[0] != batch else state

    def run(self, steps: list[Step], state: torch.Tensor, operands: list, owned: bool = False) -> torch.Tensor:
        """The state after the steps; ``owned``: ``state`` may be written over.

        Recording no gradient, the steps alternate between two buffers (see
        :mod:`qml.sim.workspace`); else each step makes a new state, kept for backward.
        """
        if not steps:
            return state if owned else state.clone()
        if torch.is_grad_enabled() and (state.requires_grad or
                                        any(m is not None and m.requires_grad for m in operands)):
            for step, m in zip(steps, operands):
                state = step.kernel.apply(state, m)
            return state
        spare = workspace.take(state)
        for step, m in zip(steps, operands):
            if spare is None:
                spare = torch.empty(state.shape, dtype=state.dtype, device=state.device)
            spare, state = (state if owned else None), step.kernel.apply(state, m, out=spare)
            owned = True
        if spare is not None:
            workspace.give(spare)
        return state


def _pauli_table(wires: tuple[int, ...], site_wires: tuple[int, ...]) -> torch.Tensor:
    """(4**k, D, D): each Pauli X^x Z^z on ``site_wires`` as a matrix on the block's ``wires``
    (its phase dropped, as :class:`qml.sim.kernels.PauliFlip` does)."""
    k, dim = len(site_wires), 2 ** len(wires)
    digits = torch.arange(4 ** k).unsqueeze(1) // 4 ** torch.arange(k - 1, -1, -1) % 4
    bits = torch.tensor([1 << (len(wires) - 1 - wires.index(w)) for w in site_wires])
    x = ((digits == 1) | (digits == 2)).long() @ bits
    z = ((digits == 2) | (digits == 3)).long() @ bits
    states = torch.arange(dim)
    parity = torch.zeros(len(z), dim, dtype=torch.int64)
    v = states.unsqueeze(0) & z.unsqueeze(1)
    while bool(v.any()):
        parity ^= v & 1
        v = v >> 1
    columns = states.unsqueeze(0) ^ x.unsqueeze(1)                    # out[i] = sign(i) in[i ^ x]
    table = torch.zeros(len(x), dim, dim)
    table.scatter_(2, columns.unsqueeze(2), (1 - 2 * parity.gather(1, columns)).unsqueeze(2).float())
    return table


def _with_errors(step: Step, values: torch.Tensor, draws: torch.Tensor, active: list) -> torch.Tensor:
    """A block's operand with its drawn Paulis between its gates: a product per sample, or the
    shared product when no sample drew an error at any of its sites."""
    sites = [(before, k, table) for before, k, table in step.noisy if active[k]]
    if not sites:
        return _product(values, False, False)
    batch = draws.shape[0]
    factors, start = [], 0
    for before, k, table in sites:
        if before > start:
            factors.append(values[start:before].unsqueeze(1).expand(-1, batch, -1, -1))
        factors.append(table.to(device=values.device, dtype=values.dtype)[draws[:, k]].unsqueeze(0))
        start = before
    if start < len(values):
        factors.append(values[start:].unsqueeze(1).expand(-1, batch, -1, -1))
    return _product(torch.cat(factors), False, False)


def _as(values: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Complex table values as the state's dtype (their real part for a real state)."""
    return values if dtype.is_complex else values.real


def _product(values: torch.Tensor, diagonal: bool, batched: bool) -> torch.Tensor:
    """The step's operand from its gathered gate factors, applied first to last."""
    if batched:                      # (batch, 1, ...): a single per-sample gate
        return values.squeeze(1)
    if diagonal:
        return values.prod(0)
    while values.shape[0] > 1:       # tree product: pairs (earlier, later) -> later @ earlier
        if values.shape[0] % 2:
            eye = torch.eye(values.shape[-1], dtype=values.dtype, device=values.device)
            values = torch.cat([values, eye.expand(1, *values.shape[1:])])
        earlier, later = values.reshape(-1, 2, *values.shape[1:]).unbind(1)
        values = later @ earlier
    return values.squeeze(0)


@lru_cache(maxsize=None)
def _embedding(k: int, local: tuple[int, ...], diagonal: bool, adjoint: bool):
    """A gate on ``local`` axes of k wires: (entry of its own matrix, inside) per entry of the
    block's (D,) diagonal or (D, D) matrix; outside the gate's embedding ``inside`` is False."""
    states = torch.arange(2 ** k)
    rest = [a for a in range(k) if a not in local]
    a_local, a_rest = _bits(states, k, list(local)), _bits(states, k, rest)
    d = 2 ** len(local)
    if diagonal:
        return a_local * (d + 1), torch.ones(2 ** k, dtype=torch.bool)
    row, col = (a_local[None, :], a_local[:, None]) if adjoint else (a_local[:, None], a_local[None, :])
    return row * d + col, a_rest[:, None] == a_rest[None, :]


def _bits(states: torch.Tensor, k: int, axes: list[int]) -> torch.Tensor:
    """The bits of each k-bit state on ``axes`` (axis 0 most significant), packed in order."""
    out = torch.zeros_like(states)
    for ax in axes:
        out = (out << 1) | ((states >> (k - 1 - ax)) & 1)
    return out


def _reads(op: Op, kind) -> bool:
    return any(isinstance(s, kind) for p in op.params for s in symbols(p))


def _gathered(op: Op) -> bool:
    """A permutation wider than a block: applied as an index gather, never as a matrix."""
    return op.gate.permutation and len(op.wires) > FUSE_WIDTH


def _is_real(op: Op) -> bool:
    return op.gate.real


#: The plan of a circuit, compiled on first use (see :mod:`qml.sim.cache`).
plan_for = CircuitCache(Plan)
