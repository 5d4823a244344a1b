"""The batched statevector engine: simulate, measure, differentiate.

States have shape ``(batch, 2**n)`` (complex64 by default, complex128 on request) and
wire 0 is the most significant bit of a basis-state index. Noise, given as data: Pauli
errors drawn per sample (:mod:`qml.sim.errors`) and the exact density-matrix mode with
channels and readout error (:mod:`qml.sim.density`).
"""

from qml.sim.density import Channel, density_expval_z, density_probabilities, simulate_density
from qml.sim.engine import simulate
from qml.sim.errors import PauliErrors, sample_pauli_errors
from qml.sim.expectation import expectation, measure
from qml.sim.measurement import PauliSum, counts, expval, expval_z, probabilities, sample

__all__ = ["simulate", "expectation", "measure", "PauliSum", "expval", "expval_z", "probabilities",
           "sample", "counts", "simulate_density", "density_expval_z", "density_probabilities", "Channel",
           "PauliErrors", "sample_pauli_errors"]
