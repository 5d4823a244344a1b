"""The batched statevector engine: simulate, measure, differentiate.

States have shape ``(batch, 2**n)`` (complex64 by default, complex128 on request) and
wire 0 is the most significant bit of a basis-state index.
"""

from qml.sim.engine import simulate
from qml.sim.expectation import expectation, measure
from qml.sim.measurement import PauliSum, counts, expval, expval_z, probabilities, sample

__all__ = ["simulate", "expectation", "measure", "PauliSum", "expval", "expval_z", "probabilities",
           "sample", "counts"]
