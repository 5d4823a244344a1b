"""Code-capacity memory with both logical observables (a circuit ``qec.codes`` does not build).

``qec.codes.surface_code(d, p, noise="code-capacity")`` is a Z-memory: only X errors are
seen, so its LER is the X part alone. The issue's code-capacity reference (X and Z decoded
separately, a shot fails if either logical flips) needs both syndromes and both logicals.
This circuit measures every stabilizer and the logical pairs ``X_L X_R`` and ``Z_L Z_R``
(with a noiseless reference qubit R, so the two commute), applies depolarizing noise ``p`` to
the data qubits, and measures them all again: detectors compare the two stabilizer rounds,
observable 0 is the Z_L flip (X errors), observable 1 the X_L flip (Z errors).

>>> c = code_capacity_xz(3, 0.05)
>>> c.num_detectors, c.num_observables
(8, 2)
"""

from __future__ import annotations

import stim

from qec.codes import check_distance, check_probability


def _stabilizers(distance: int):
    """(ancilla coords, 'X' or 'Z', data qubits) per stabilizer, data qubits with coordinates, Z_L, X_L."""
    layouts = {b: stim.Circuit.generated(f"surface_code:rotated_memory_{b}", distance=distance, rounds=1)
               for b in "zx"}
    circuit = layouts["z"]
    coords = {q: tuple(c) for q, c in circuit.get_final_qubit_coordinates().items()}
    data = sorted(q for q, (x, y) in coords.items() if x % 2 == 1 and y % 2 == 1)
    by_xy = {coords[q]: q for q in data}
    x_type = set()
    for inst in circuit.flattened():
        if inst.name == "H":
            x_type.update(t.value for t in inst.targets_copy())
    stabs = []
    for q, (x, y) in sorted(coords.items()):
        if q in data:
            continue
        support = [by_xy[(x + dx, y + dy)] for dx in (-1, 1) for dy in (-1, 1) if (x + dx, y + dy) in by_xy]
        stabs.append(((x, y), "X" if q in x_type else "Z", support))
    return stabs, data, coords, _observable_qubits(layouts["z"]), _observable_qubits(layouts["x"])


def _observable_qubits(c: stim.Circuit) -> list[int]:
    """Data qubits whose final measurements make up observable 0 of a generated memory circuit."""
    flat = c.flattened()
    final_m = [inst for inst in flat if inst.name in ("M", "MX")][-1]
    measured = [t.value for t in final_m.targets_copy()]
    obs = [inst for inst in flat if inst.name == "OBSERVABLE_INCLUDE"][-1]
    return sorted(measured[len(measured) + t.value] for t in obs.targets_copy())


def code_capacity_xz(distance: int, p: float) -> stim.Circuit:
    """Depolarizing code-capacity noise ``p`` on the rotated surface code, both logicals observed."""
    distance, p = check_distance(distance), check_probability(p)
    stabs, data, coords, z_logical, x_logical = _stabilizers(distance)
    ref = max(coords) + 1
    c = stim.Circuit()
    for q in data:
        c.append("QUBIT_COORDS", [q], coords[q])
    for noisy in (True, False):
        for _, basis, support in stabs:
            c.append("MPP", _product(basis, support))
        c.append("MPP", _product("Z", z_logical) + [stim.target_combiner(), stim.target_z(ref)])
        c.append("MPP", _product("X", x_logical) + [stim.target_combiner(), stim.target_x(ref)])
        if noisy:
            c.append("DEPOLARIZE1", data, p)
    m = len(stabs) + 2
    for k, (xy, _, _) in enumerate(stabs):
        c.append("DETECTOR", [stim.target_rec(-2 * m + k), stim.target_rec(-m + k)], [*xy, 0])
    for k in range(2):
        c.append("OBSERVABLE_INCLUDE", [stim.target_rec(-m - 2 + k), stim.target_rec(-2 + k)], k)
    return c


def _product(basis: str, qubits: list[int]) -> list:
    make = stim.target_x if basis == "X" else stim.target_z
    out = []
    for q in qubits:
        if out:
            out.append(stim.target_combiner())
        out.append(make(q))
    return out
