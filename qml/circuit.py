"""Circuit: the one circuit representation of the toolkit.

A circuit is data: a number of wires and an ordered list of :class:`Op`, each a gate
name, its wires and its parameters. A parameter is a number, a :class:`Param` (a
named trainable parameter, written as a plain string in the builders) or an
:class:`Input` (a feature of the input data). Simulation, qiskit export, device
mapping, fidelity graphs, SuperCircuit sampling and pruning all read this one type.

Example:
    >>> from qml import Circuit, Input
    >>> c = Circuit(2).ry(0, Input(0)).rx(1, "theta").cx(0, 1)
    >>> c.parameters, c.n_inputs, c.depth()
    (('theta',), 1, 2)
    >>> print(c.draw())
    q0: ───RY(x0)──●─
    q1: ─RX(theta)─X─
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Sequence, Union

from qml.gates import ALIASES, GATES, Gate, get_gate

#: Instructions that are not gates: kept for execution, ignored by the statevector.
DIRECTIVES = ("barrier", "measure")


class _Symbolic:
    """Arithmetic of symbolic parameters: numbers times Params and Inputs, plus a number."""

    def _terms(self) -> tuple[tuple["Param | Input", float], ...]:
        return ((self, 1.0),)

    _offset = 0.0

    def __add__(self, other):
        if isinstance(other, _Symbolic):
            return linear(self._terms() + other._terms(), self._offset + other._offset)
        return linear(self._terms(), self._offset + _number(other))

    __radd__ = __add__

    def __mul__(self, k):
        k = _number(k)
        return linear(tuple((s, c * k) for s, c in self._terms()), self._offset * k)

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other if isinstance(other, _Symbolic) else -_number(other))

    def __rsub__(self, other):
        return -self + other


def _number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"a symbolic parameter combines only with numbers, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Param(_Symbolic):
    """A named trainable parameter; circuits sharing a name share its value."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Input(_Symbolic):
    """Feature ``index`` of the input data (one row per sample of a batch)."""

    index: int

    def __post_init__(self):
        if isinstance(self.index, bool) or not isinstance(self.index, int) or self.index < 0:
            raise ValueError(f"an input feature index is a non-negative integer, got {self.index!r}")

    def __str__(self) -> str:
        return f"x{self.index}"


@dataclass(frozen=True)
class Linear(_Symbolic):
    """``sum(coefficient * symbol) + offset`` over Params and Inputs, e.g. ``2 * Param("t") + 1``.

    Build it with arithmetic or :func:`linear`, which merges repeated symbols and returns a
    plain number, Param or Input where the combination is one.
    """

    terms: tuple[tuple[Param | Input, float], ...]
    offset: float = 0.0

    def _terms(self):
        return self.terms

    @property
    def _offset(self) -> float:
        return self.offset

    def __str__(self) -> str:
        text = " + ".join(f"{c:.4g}*{s}" if c != 1 else str(s) for s, c in self.terms)
        return f"{text} + {self.offset:.4g}" if self.offset else text


def linear(terms, offset: float = 0.0) -> "ParamValue":
    """The combination ``sum(c * s for s, c in terms) + offset`` in its simplest form
    (Params by name, then Inputs by index).

    >>> linear([(Param("a"), 0.5), (Param("a"), 0.5)])
    Param(name='a')
    """
    merged: dict = {}
    for symbol, coef in terms:
        if not isinstance(symbol, (Param, Input)):
            raise ValueError(f"a linear parameter combines Params and Inputs, got {symbol!r}")
        merged[symbol] = merged.get(symbol, 0.0) + float(coef)
    order = sorted(merged, key=lambda s: (0, s.name, 0) if isinstance(s, Param) else (1, "", s.index))
    kept = tuple((s, merged[s]) for s in order if merged[s] != 0)
    offset = float(offset)
    if not kept:
        return offset
    if len(kept) == 1 and kept[0][1] == 1 and offset == 0:
        return kept[0][0]
    return Linear(kept, offset)


ParamValue = Union[float, Param, Input, Linear]


def symbols(value: ParamValue) -> tuple[Param | Input, ...]:
    """The Params and Inputs a parameter value reads (none for a number)."""
    if isinstance(value, (Param, Input)):
        return (value,)
    if isinstance(value, Linear):
        return tuple(s for s, _ in value.terms)
    return ()


@dataclass(frozen=True)
class Op:
    """One operation: a gate (or directive) on wires, with parameters.

    ``adjoint`` applies the gate's inverse; ``matrix`` holds the constant matrix of a
    ``unitary`` op (an imported gate known only by its matrix).
    """

    name: str
    wires: tuple[int, ...]
    params: tuple[ParamValue, ...] = ()
    adjoint: bool = False
    matrix: tuple[tuple[complex, ...], ...] | None = field(default=None, compare=True)

    @property
    def gate(self) -> Gate:
        return get_gate(self.name, len(self.wires), self.matrix)

    @property
    def is_directive(self) -> bool:
        return self.name in DIRECTIVES


def _param_text(p: ParamValue) -> str:
    return f"{p:.3g}" if isinstance(p, float) else str(p)


def _as_param(value: Any) -> ParamValue:
    if isinstance(value, (Param, Input)):
        return value
    if isinstance(value, Linear):
        return linear(value.terms, value.offset)
    if isinstance(value, str):
        if not value:
            raise ValueError("a parameter name must not be empty")
        return Param(value)
    if hasattr(value, "item") and getattr(value, "numel", lambda: 1)() == 1:
        value = value.item()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"parameter value {value} is not finite")
        return value
    raise ValueError(f"a parameter must be a number, a name (str or Param), an Input or a Linear "
                     f"combination of them; got {value!r}")


class Circuit:
    """An ordered list of operations on ``n_wires`` wires (wire 0 is the most significant bit).

    Builder methods are named after the gates (``c.h(0)``, ``c.rx(1, "theta")``,
    ``c.cu3(0, 1, a, b, c)``, ``c.mcx([0, 1, 2], 3)``) and return the circuit.
    """

    def __init__(self, n_wires: int, ops: Iterable[Op] = (), global_phase: float = 0.0):
        if not isinstance(n_wires, int) or isinstance(n_wires, bool) or n_wires < 1:
            raise ValueError(f"n_wires must be a positive integer, got {n_wires!r}")
        self.n_wires = n_wires
        self.global_phase = float(global_phase)
        self._ops: list[Op] = []
        self._cache: dict = {}  # parameter names and input count: rebuilt after each append
        for op in ops:
            self.append(op.name, op.wires, op.params, adjoint=op.adjoint, matrix=op.matrix)

    # --- building ------------------------------------------------------------------------

    def append(self, name: str, wires: int | Sequence[int], params: Sequence[Any] = (), *,
               adjoint: bool = False, matrix=None) -> "Circuit":
        """Append gate ``name`` on ``wires`` with ``params``; checks everything, returns self."""
        wires = (wires,) if isinstance(wires, int) else tuple(wires)
        for w in wires:
            if not isinstance(w, int) or isinstance(w, bool) or not 0 <= w < self.n_wires:
                raise ValueError(f"wire {w!r} of {name} is out of range for {self.n_wires} wires")
        if len(set(wires)) != len(wires):
            raise ValueError(f"{name} acts on repeated wires {wires}")
        params = tuple(_as_param(p) for p in params)
        key = name.lower()
        if key in DIRECTIVES:
            return self._push(Op(key, wires, params))
        gate = get_gate(key, len(wires), matrix)
        if len(wires) != gate.n_wires:
            raise ValueError(f"{gate.name} acts on {gate.n_wires} wire(s), got {len(wires)}: {wires}")
        if len(params) != gate.n_params:
            raise ValueError(f"{gate.name} takes {gate.n_params} parameter(s), got {len(params)}")
        rows = None
        if gate.takes_matrix:
            dim = 2 ** gate.n_wires
            rows = tuple(tuple(e[0] for e in gate.entries[r * dim:(r + 1) * dim]) for r in range(dim))
        return self._push(Op(gate.name, wires, params, adjoint, rows))

    def _push(self, op: Op) -> "Circuit":
        self._ops.append(op)
        self._cache.clear()
        return self

    @property
    def ops(self) -> tuple[Op, ...]:
        """The operations, in order (read-only: build with the builders or :meth:`append`)."""
        return tuple(self._ops)

    def barrier(self, *wires: int) -> "Circuit":
        return self.append("barrier", wires or tuple(range(self.n_wires)))

    def measure(self, wire: int, clbit: int | None = None) -> "Circuit":
        """Measure ``wire`` into classical bit ``clbit`` (default: the wire's index)."""
        return self.append("measure", wire, (wire if clbit is None else clbit,))

    def mcx(self, controls: Sequence[int], target: int) -> "Circuit":
        return self.append("mcx", (*controls, target))

    def unitary(self, matrix, wires: Sequence[int]) -> "Circuit":
        """Append a constant unitary ``matrix`` (in this package's bit order) on ``wires``."""
        return self.append("unitary", wires, matrix=matrix)

    def compose(self, other: "Circuit") -> "Circuit":
        """A new circuit: this one followed by ``other`` (same number of wires)."""
        if other.n_wires != self.n_wires:
            raise ValueError(f"cannot compose circuits on {self.n_wires} and {other.n_wires} wires")
        return Circuit(self.n_wires, [*self._ops, *other._ops], self.global_phase + other.global_phase)

    __add__ = compose

    # --- reading -------------------------------------------------------------------------

    @property
    def parameters(self) -> tuple[str, ...]:
        """Names of the trainable parameters, in order of first appearance."""
        if "parameters" not in self._cache:
            seen = dict.fromkeys(s.name for op in self._ops for p in op.params for s in symbols(p)
                                 if isinstance(s, Param))
            self._cache["parameters"] = tuple(seen)
        return self._cache["parameters"]

    @property
    def n_inputs(self) -> int:
        """Number of input features read (the largest Input index plus one)."""
        if "n_inputs" not in self._cache:
            self._cache["n_inputs"] = 1 + max(
                (s.index for op in self._ops for p in op.params for s in symbols(p) if isinstance(s, Input)),
                default=-1)
        return self._cache["n_inputs"]

    @property
    def gates(self) -> list[Op]:
        """The ops that act on the state (directives left out)."""
        return [op for op in self._ops if not op.is_directive]

    def count_ops(self) -> dict[str, int]:
        return dict(Counter(op.name for op in self._ops))

    def depth(self) -> int:
        """Number of layers when every gate starts as early as its wires allow."""
        return max(self._layers(), default=-1) + 1

    def _layers(self) -> list[int]:
        level = [0] * self.n_wires
        layers = []
        for op in self.gates:
            layer = max(level[w] for w in op.wires)
            for w in op.wires:
                level[w] = layer + 1
            layers.append(layer)
        return layers

    def inverse(self) -> "Circuit":
        """The inverse circuit: gates reversed and adjoint (directives dropped)."""
        return Circuit(self.n_wires, [replace(op, adjoint=not op.adjoint) for op in reversed(self.gates)],
                       -self.global_phase)

    def relabel(self, mapping: dict[int, int] | Sequence[int], n_wires: int | None = None) -> "Circuit":
        """The same circuit with wire ``w`` moved to ``mapping[w]`` (on ``n_wires`` wires)."""
        n = n_wires or self.n_wires
        if not isinstance(mapping, dict):
            mapping = dict(enumerate(mapping))
        used = sorted({w for op in self._ops for w in op.wires})
        missing = [w for w in used if w not in mapping]
        if missing:
            raise ValueError(f"relabel: the mapping gives no new wire for wire(s) {missing} (it maps "
                             f"{sorted(mapping)}); give one for every wire the circuit uses")
        targets = [mapping[w] for w in used]
        if len(set(targets)) != len(targets):
            raise ValueError(f"relabel: the mapping sends two wires to the same wire: {mapping}")
        return Circuit(n, [replace(op, wires=tuple(mapping[w] for w in op.wires)) for op in self._ops],
                       self.global_phase)

    def bind(self, params=None, inputs=None) -> "Circuit":
        """A copy with every Param and Input replaced by a number.

        ``params``: a dict name -> value or a sequence ordered like :attr:`parameters`;
        ``inputs``: one row of features. Names not given stay symbolic; a name the circuit
        does not have is an error.
        """
        if params is not None and not isinstance(params, dict):
            values = [float(v) for v in _flat(params)]
            if len(values) != len(self.parameters):
                raise ValueError(f"expected {len(self.parameters)} parameter values, got {len(values)}")
            params = dict(zip(self.parameters, values))
        if params:
            unknown = [k for k in params if k not in self.parameters]
            if unknown:
                raise ValueError(f"unknown parameter name(s) {unknown}; the circuit's parameters are "
                                 f"{list(self.parameters)}")
        row = None if inputs is None else [float(v) for v in _flat(inputs)]
        if row is not None and len(row) < self.n_inputs:
            raise ValueError(f"the circuit reads {self.n_inputs} input features, got {len(row)}")

        def number(s):
            if isinstance(s, Param) and params is not None and s.name in params:
                return float(params[s.name])
            if isinstance(s, Input) and row is not None:
                return row[s.index]
            return None

        def value(p):
            if not symbols(p):
                return p
            terms, offset = [], p.offset if isinstance(p, Linear) else 0.0
            for s, c in (p.terms if isinstance(p, Linear) else ((p, 1.0),)):
                v = number(s)
                if v is None:
                    terms.append((s, c))
                else:
                    offset += c * v
            return linear(terms, offset)
        return Circuit(self.n_wires, [replace(op, params=tuple(value(p) for p in op.params))
                                      for op in self._ops], self.global_phase)

    def __eq__(self, other) -> bool:
        return (isinstance(other, Circuit) and self.n_wires == other.n_wires and self._ops == other._ops
                and self.global_phase == other.global_phase)

    def __len__(self) -> int:
        return len(self._ops)

    def __repr__(self) -> str:
        return f"Circuit(n_wires={self.n_wires}, ops={len(self._ops)}, depth={self.depth()})"

    def draw(self) -> str:
        """A text drawing: one row per wire, one column per layer."""
        columns: list[dict[int, str]] = []
        level = [0] * self.n_wires
        for op in self._ops:
            span = range(min(op.wires), max(op.wires) + 1)
            layer = max(level[w] for w in span)
            while len(columns) <= layer:
                columns.append({})
            columns[layer].update(_cell_labels(op))
            for w in span:
                if w not in op.wires:
                    columns[layer][w] = "│"
                level[w] = layer + 1
        rows = [f"q{w}: ─" for w in range(self.n_wires)]
        width = len(max(rows, key=len))
        rows = [r.rjust(width) for r in rows]
        for col in columns:
            size = max(len(s) for s in col.values())
            for w in range(self.n_wires):
                rows[w] += col.get(w, "").center(size, "─") + "─"
        return "\n".join(rows)

    # --- serialisation and interop -----------------------------------------------------------

    def to_json(self) -> str:
        return json.dumps({"n_wires": self.n_wires, "global_phase": self.global_phase,
                           "ops": [_op_to_dict(op) for op in self._ops]})

    @classmethod
    def from_json(cls, text: str) -> "Circuit":
        try:
            data = json.loads(text)
        except (TypeError, json.JSONDecodeError) as err:
            raise ValueError(f"Circuit.from_json: not JSON text ({err})") from None
        if not isinstance(data, dict) or "n_wires" not in data or "ops" not in data:
            raise ValueError("Circuit.from_json: expected an object with 'n_wires' and 'ops' "
                             "(as Circuit.to_json writes)")
        circuit = cls(data["n_wires"], global_phase=data.get("global_phase", 0.0))
        for d in data["ops"]:
            matrix = d.get("matrix")
            if matrix is not None:
                matrix = [[complex(re, im) for re, im in row] for row in matrix]
            circuit.append(d["gate"], d["wires"], [_param_from_json(p) for p in d["params"]],
                           adjoint=d.get("adjoint", False), matrix=matrix)
        return circuit

    def to_qiskit(self):
        """This circuit as a ``qiskit.QuantumCircuit`` (qiskit's bit order handled)."""
        from qml.interop import to_qiskit
        return to_qiskit(self)

    @classmethod
    def from_qiskit(cls, qc) -> "Circuit":
        """Import a ``qiskit.QuantumCircuit``; composite gates are expanded by their definitions."""
        from qml.interop import from_qiskit
        return from_qiskit(qc)

    def to_qasm(self) -> str:
        """OpenQASM 2 text, through qiskit."""
        from qml.interop import to_qasm
        return to_qasm(self)

    @classmethod
    def from_qasm(cls, text: str) -> "Circuit":
        """Parse OpenQASM 2 text, through qiskit."""
        from qml.interop import from_qasm
        return from_qasm(text)


def _cell_labels(op: Op) -> dict[int, str]:
    if op.is_directive:
        return {w: ("░" if op.name == "barrier" else "M") for w in op.wires}
    gate = op.gate
    labels = {w: "●" for w in op.wires[:gate.controls]}
    targets = op.wires[gate.controls:]
    text = gate.label + ("†" if op.adjoint else "")
    if op.params:
        text += "(" + ",".join(_param_text(p) for p in op.params) + ")"
    for i, w in enumerate(targets):
        labels[w] = text if len(targets) == 1 else f"{text}{i}"
    return labels


def _op_to_dict(op: Op) -> dict:
    d = {"gate": op.name, "wires": list(op.wires), "params": [_param_to_json(p) for p in op.params]}
    if op.adjoint:
        d["adjoint"] = True
    if op.matrix is not None:
        d["matrix"] = [[[v.real, v.imag] for v in row] for row in op.matrix]
    return d


def _param_to_json(p: ParamValue):
    if isinstance(p, Param):
        return {"param": p.name}
    if isinstance(p, Input):
        return {"input": p.index}
    if isinstance(p, Linear):
        return {"linear": [[_param_to_json(s), c] for s, c in p.terms], "offset": p.offset}
    return p


def _param_from_json(p):
    if isinstance(p, dict):
        if "linear" in p:
            return linear([(_param_from_json(s), c) for s, c in p["linear"]], p.get("offset", 0.0))
        return Param(p["param"]) if "param" in p else Input(int(p["input"]))
    return p


def _flat(values) -> list:
    if hasattr(values, "detach"):
        return values.detach().reshape(-1).tolist()
    return list(values)


def _builder(name: str, gate: Gate):
    def build(self: Circuit, *args) -> Circuit:
        if len(args) != gate.n_wires + gate.n_params:
            raise ValueError(f"{name} takes {gate.n_wires} wire(s) then {gate.n_params} parameter(s), "
                             f"got {len(args)} arguments")
        return self.append(gate.name, args[:gate.n_wires], args[gate.n_wires:])
    build.__name__ = name
    build.__doc__ = f"Append {gate.doc} on {gate.n_wires} wire(s) with {gate.n_params} parameter(s)."
    return build


for _name, _gate in [*GATES.items(), *((a, GATES[g]) for a, g in ALIASES.items())]:
    if not hasattr(Circuit, _name):
        setattr(Circuit, _name, _builder(_name, _gate))
