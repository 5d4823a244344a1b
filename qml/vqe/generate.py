"""Generate the molecular Hamiltonians shipped in ``qml/vqe/data`` (needs the ``[chem]`` extra).

    python -m qml.vqe.generate                 # all molecules, into qml/vqe/data
    python -m qml.vqe.generate h2 lih --out DIR

Pipeline (qiskit-nature with pyscf): ``PySCFDriver`` (RHF, STO-3G, the geometry below) ->
``ActiveSpaceTransformer`` (frozen core and chosen orbitals, when the molecule has an active
space) -> ``JordanWignerMapper`` or ``ParityMapper(num_particles)`` (parity with the two-qubit
reduction) -> Pauli labels reversed into this package's wire order (character ``w`` of a label
is the Pauli on wire ``w``; wire ``w`` is qiskit's qubit ``w``, i.e. spin orbital ``w`` in
block order, alpha orbitals first).

Each file also records, as independent checks: the exact ground-state energy of the qubit
Hamiltonian in the molecule's electron-number sector (sparse diagonalisation, our code), pyscf's
FCI energy on the same active-space integrals (``reference_energy``; it must agree with the
former) and the RHF energy (which the Hartree-Fock bitstring must reproduce).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from importlib import metadata
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

_A = 1.087 / math.sqrt(3)  # CH4: C-H 1.087 A along the cube diagonals
_H2O_ANGLE = math.radians(104.5)

#: name -> how its Hamiltonian is built. Geometries in angstrom (experimental equilibrium
#: structures, CCCBDB; H2 at the 0.735 A that qiskit-nature's tutorials use).
SPECS: dict[str, dict] = {
    "h2": dict(
        formula="H2", atoms=[("H", (0.0, 0.0, 0.0)), ("H", (0.0, 0.0, 0.735))],
        geometry_source="H-H 0.735 A (the distance qiskit-nature's tutorials use; experiment 0.741 A)",
        active=None, mapping="parity", two_qubit_reduction=True,
        note="full STO-3G space (2 electrons in 2 spatial orbitals = 4 spin orbitals); parity "
             "mapping with two-qubit reduction -> 2 qubits"),
    "lih": dict(
        formula="LiH", atoms=[("Li", (0.0, 0.0, 0.0)), ("H", (0.0, 0.0, 1.5949))],
        geometry_source="Li-H 1.5949 A (experimental equilibrium, CCCBDB)",
        active=dict(num_electrons=2, num_spatial_orbitals=3, active_orbitals=[1, 2, 5]),
        mapping="jordan_wigner", two_qubit_reduction=False,
        note="Li 1s frozen (MO 0); the two pi orbitals (MOs 3, 4: Li 2px, 2py, which do not mix "
             "with the sigma bond) removed; active: 2 electrons in the sigma orbitals 1, 2, 5 = "
             "6 spin orbitals; Jordan-Wigner -> 6 qubits"),
    "h2o": dict(
        formula="H2O",
        atoms=[("O", (0.0, 0.0, 0.0)),
               ("H", (0.9578 * math.sin(_H2O_ANGLE / 2), 0.0, 0.9578 * math.cos(_H2O_ANGLE / 2))),
               ("H", (-0.9578 * math.sin(_H2O_ANGLE / 2), 0.0, 0.9578 * math.cos(_H2O_ANGLE / 2)))],
        geometry_source="O-H 0.9578 A, H-O-H 104.5 deg (experimental equilibrium, CCCBDB)",
        active=dict(num_electrons=4, num_spatial_orbitals=4, active_orbitals=[3, 4, 5, 6]),
        mapping="parity", two_qubit_reduction=True,
        note="MOs 0-2 (O 1s, 2a1, 1b2) frozen; active: 4 electrons in the two highest occupied "
             "(3a1, 1b1) and the two virtual (4a1, 2b2) orbitals = 8 spin orbitals; parity "
             "mapping with two-qubit reduction -> 6 qubits"),
    "ch4": dict(
        formula="CH4",
        atoms=[("C", (0.0, 0.0, 0.0)), ("H", (_A, _A, _A)), ("H", (-_A, -_A, _A)),
               ("H", (-_A, _A, -_A)), ("H", (_A, -_A, -_A))],
        geometry_source="C-H 1.087 A, tetrahedral (experimental equilibrium, CCCBDB)",
        active=dict(num_electrons=6, num_spatial_orbitals=4, active_orbitals=[2, 3, 4, 5]),
        mapping="parity", two_qubit_reduction=True,
        note="MOs 0-1 (C 1s, 2a1) frozen; active: 6 electrons in the triply degenerate HOMO shell "
             "1t2 (MOs 2-4) and the 3a1 LUMO (MO 5) = 8 spin orbitals (whole degenerate shells, so "
             "the space does not depend on how pyscf rotates degenerate orbitals); parity mapping "
             "with two-qubit reduction -> 6 qubits"),
    "beh2": dict(
        formula="BeH2", atoms=[("Be", (0.0, 0.0, 0.0)), ("H", (0.0, 0.0, 1.3264)),
                               ("H", (0.0, 0.0, -1.3264))],
        geometry_source="linear H-Be-H, Be-H 1.3264 A (CCCBDB)",
        active=None, mapping="jordan_wigner", two_qubit_reduction=False,
        note="full STO-3G space: 6 electrons in 7 spatial orbitals = 14 spin orbitals; "
             "Jordan-Wigner -> 14 qubits"),
}

GENERATOR_PACKAGES = ("qiskit-nature", "pyscf", "qiskit", "numpy", "scipy")


def _require_extra():
    try:
        import pyscf  # noqa: F401
        import qiskit_nature  # noqa: F401
    except ImportError as err:
        raise ImportError("generating Hamiltonians needs the [chem] extra: "
                          "pip install pyscf qiskit-nature") from err


def generate(name: str) -> dict:
    """The JSON record of molecule ``name`` (see :data:`SPECS`), computed from scratch."""
    if name not in SPECS:
        raise ValueError(f"unknown molecule {name!r}; known molecules: {', '.join(SPECS)}")
    _require_extra()
    import numpy as np
    from pyscf import fci
    from qiskit_nature.second_q.drivers import PySCFDriver
    from qiskit_nature.second_q.mappers import JordanWignerMapper, ParityMapper
    from qiskit_nature.second_q.operators.tensor_ordering import to_chemist_ordering
    from qiskit_nature.second_q.transformers import ActiveSpaceTransformer
    from qiskit_nature.units import DistanceUnit

    from qml.vqe.hamiltonian import Hamiltonian

    spec = SPECS[name]
    atom = "; ".join(f"{s} {x!r} {y!r} {z!r}" for s, (x, y, z) in spec["atoms"])
    driver = PySCFDriver(atom=atom, basis="sto3g", charge=0, spin=0, unit=DistanceUnit.ANGSTROM)
    problem = driver.run()
    full_orbitals, full_particles = problem.num_spatial_orbitals, problem.num_particles
    hf_energy = float(problem.reference_energy)
    if spec["active"]:
        problem = ActiveSpaceTransformer(**spec["active"]).transform(problem)
    n_alpha, n_beta = (int(v) for v in problem.num_particles)
    n_spatial = int(problem.num_spatial_orbitals)
    energy = problem.hamiltonian
    constants = {k: float(v) for k, v in energy.constants.items()}
    mapper = (ParityMapper(num_particles=(n_alpha, n_beta)) if spec["two_qubit_reduction"]
              else ParityMapper() if spec["mapping"] == "parity" else JordanWignerMapper())
    qubit_op = mapper.map(energy.second_q_op()).simplify(atol=1e-12)
    terms = []
    for label, coeff in zip(qubit_op.paulis.to_labels(), qubit_op.coeffs):
        if abs(coeff.imag) > 1e-10:
            raise RuntimeError(f"{name}: complex coefficient {coeff} for {label}")
        terms.append([label[::-1], float(coeff.real)])   # qiskit's qubit 0 is the rightmost
    terms.sort(key=lambda t: t[0])

    # pyscf's FCI on the same (active-space) integrals: an independent exact energy
    ints = energy.electronic_integrals
    h1 = np.asarray(ints.alpha["+-"])
    h2 = np.asarray(to_chemist_ordering(ints.alpha["++--"]))
    reference, _ = fci.direct_spin1.kernel(h1, h2, n_spatial, (n_alpha, n_beta),
                                           ecore=sum(constants.values()), conv_tol=1e-12)
    active = spec["active"] or {}
    record = {
        "name": name, "formula": spec["formula"],
        "geometry": {"unit": "angstrom", "atoms": [[s, list(xyz)] for s, xyz in spec["atoms"]],
                     "source": spec["geometry_source"]},
        "basis": "sto-3g", "charge": 0, "spin": 0,
        "active_space": {
            "num_electrons": [n_alpha, n_beta], "num_spatial_orbitals": n_spatial,
            "orbitals": active.get("active_orbitals", list(range(full_orbitals))),
            "full_num_spatial_orbitals": int(full_orbitals),
            "full_num_electrons": [int(v) for v in full_particles], "note": spec["note"]},
        "mapping": spec["mapping"], "two_qubit_reduction": spec["two_qubit_reduction"],
        "spin_order": "block: alpha spin orbitals 0..n-1, then beta n..2n-1",
        "n_qubits": len(terms[0][0]),
        "wire_order": "character w of a label is the Pauli on wire w; wire 0 is the most "
                      "significant bit of a basis-state index",
        "constant": sum(constants.values()),
        "constant_parts": constants,
        "terms": terms,
        "hf_energy": hf_energy,
        "reference_energy": float(reference),
        "reference_method": "pyscf fci.direct_spin1 on the active-space integrals + constant",
        "versions": {p: _version(p) for p in GENERATOR_PACKAGES},
        "generator": "python -m qml.vqe.generate " + name,
    }
    ham = Hamiltonian.from_dict(record, source=f"<generated {name}>", require_exact=False)
    record["exact_energy"] = ham.exact_ground_energy()
    record["exact_method"] = ("lowest eigenvalue of the qubit Hamiltonian restricted to the basis "
                              "states with the molecule's alpha and beta electron numbers "
                              "(scipy.sparse.linalg.eigsh) + constant")
    if abs(record["exact_energy"] - record["reference_energy"]) > 1e-6:
        raise RuntimeError(f"{name}: exact energy {record['exact_energy']} of the qubit Hamiltonian "
                           f"disagrees with pyscf's FCI {record['reference_energy']}")
    if abs(ham.hartree_fock_energy() - hf_energy) > 1e-6:
        raise RuntimeError(f"{name}: the Hartree-Fock bitstring gives {ham.hartree_fock_energy()}, "
                           f"pyscf's RHF {hf_energy}")
    return record


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def write(name: str, out_dir: str | Path = DATA_DIR) -> Path:
    """Generate ``name`` and write ``<out_dir>/<name>.json`` atomically; returns the path."""
    from qml.files import atomic_path

    record = generate(name)
    path = Path(out_dir) / f"{name}.json"
    with atomic_path(path) as tmp:
        tmp.write_text(dumps(record))
    return path


def dumps(record: dict) -> str:
    """The record as indented JSON with one Pauli term per line."""
    head = json.dumps({k: v for k, v in record.items() if k != "terms"}, indent=1)
    terms = ",\n".join("  " + json.dumps(t) for t in record["terms"])
    return head[:-2] + ',\n "terms": [\n' + terms + "\n ]\n}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qml.vqe.generate", description=__doc__.splitlines()[0])
    parser.add_argument("molecules", nargs="*", default=list(SPECS),
                        help=f"molecules (default all): {', '.join(SPECS)}")
    parser.add_argument("--out", default=str(DATA_DIR), help="output directory (default: the package's data)")
    args = parser.parse_args(argv)
    for name in args.molecules:
        try:
            path = write(name, args.out)
        except (ValueError, ImportError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        record = json.loads(path.read_text())
        print(f"{name}: {record['n_qubits']} qubits, {len(record['terms'])} terms, exact "
              f"{record['exact_energy']:.8f} Ha (pyscf FCI {record['reference_energy']:.8f}) -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
