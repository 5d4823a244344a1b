"""Devices shared by the noise tests."""

import pytest

from noise.devices import Device


@pytest.fixture(scope="module")
def santiago():
    return Device.from_name("santiago")


def line_device(n, *, readout=None, gate_error=0.0, name="line"):
    """A noiseless ``n``-qubit line (T1/T2 unknown: no relaxation) with the given
    ``readout`` {qubit: (P(1|0), P(0|1))} and one error rate for every gate."""
    qubits = {q: {"T1": None, "T2": None, "prob_meas1_prep0": (readout or {}).get(q, (0.0, 0.0))[0],
                  "prob_meas0_prep1": (readout or {}).get(q, (0.0, 0.0))[1]} for q in range(n)}
    gates = {q: {"sx": gate_error, "x": gate_error, "id": gate_error} for q in range(n)}
    edges = [(a, a + 1) for a in range(n - 1)] + [(a + 1, a) for a in range(n - 1)]
    gates.update({e: {"cx": gate_error} for e in edges})
    return Device.from_properties({"qubit": qubits, "gate": gates}, edges, name=name)
