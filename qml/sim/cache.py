"""Per-circuit values the engine derives (plans, occurrence circuits), kept beside the circuit.

A :class:`qml.Circuit` is data and knows nothing of how it runs; the engine remembers
what it compiled for each circuit object here, weakly (an entry goes with its circuit)
and tagged with the circuit's length (ops are append-only, so a circuit that grew is
compiled anew).

Example:
    >>> from qml import Circuit
    >>> sizes = CircuitCache(len)
    >>> c = Circuit(1).h(0)
    >>> sizes(c), sizes(c.x(0))
    (1, 2)
"""

from __future__ import annotations

import weakref
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class CircuitCache(Generic[T]):
    """``cache(circuit)`` returns ``build(circuit)``, computed once per circuit object and length."""

    def __init__(self, build: Callable[[object], T]):
        self._build = build
        self._entries: dict[int, tuple[weakref.ref, int, T]] = {}

    def __call__(self, circuit) -> T:
        key = id(circuit)
        entry = self._entries.get(key)
        if entry is not None and entry[0]() is circuit and entry[1] == len(circuit):
            return entry[2]
        value = self._build(circuit)
        entries = self._entries
        ref = weakref.ref(circuit, lambda _, key=key: entries.pop(key, None))
        entries[key] = (ref, len(circuit), value)
        return value
