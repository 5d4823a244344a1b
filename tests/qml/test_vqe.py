"""qml.vqe: shipped Hamiltonians, our fermion-to-qubit mapping, UCCSD, the VQE loop, the CLI."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch

import qml
from qml.vqe import hardware_efficient, load_hamiltonian, uccsd, vqe
from qml.vqe.ansatz import excitations, pauli_rotation
from qml.vqe.hamiltonian import DATA_DIR, Hamiltonian, known_molecules
from qml.vqe.optimize import _ShotObjective, energy, estimate_energy

torch.set_num_threads(1)  # the suite shares two cores
ROOT = Path(__file__).resolve().parents[2]
QUBITS = {"h2": 2, "lih": 6, "h2o": 6, "ch4": 6, "beh2": 14}
HAS_CHEM = all(importlib.util.find_spec(m) for m in ("pyscf", "qiskit_nature"))
NO_CHEM = "needs the [chem] extra (pyscf, qiskit-nature)"


# --- dense references, independent of qml.vqe.fermion ----------------------------------------------

_PAULI = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]),
          "Z": np.diag([1, -1])}


def pauli_matrix(label):
    m = np.array([[1.0 + 0j]])
    for p in label:  # wire 0 first = most significant bit
        m = np.kron(m, _PAULI[p])
    return m


def fock_generator(occupied, virtual, n_modes):
    """T - T^dagger with T = a_v1^+ a_v2^+ a_o2 a_o1 on occupation bitstrings (mode j = bit n-1-j)."""
    factors = [(v, True) for v in virtual] + [(o, False) for o in reversed(occupied)]
    dim = 2 ** n_modes
    t = np.zeros((dim, dim))
    for state in range(dim):
        s, sign = state, 1
        for mode, dagger in reversed(factors):
            bit = 1 << (n_modes - 1 - mode)
            if bool(s & bit) == dagger:
                break
            sign *= (-1) ** bin(s >> (n_modes - mode)).count("1")  # occupied modes before `mode`
            s ^= bit
        else:
            t[s, state] += sign
    return t - t.T


def fock_index(h):
    """For each qubit basis state of ``h``, the Fock basis state (occupation bitstring) it encodes."""
    n, m = h.n_qubits, h.n_spatial_orbitals
    out = []
    for i in range(2 ** n):
        bits = [(i >> (n - 1 - w)) & 1 for w in range(n)]
        if h.two_qubit_reduction:
            bits.insert(m - 1, h.n_alpha % 2)
            bits.insert(2 * m - 1, (h.n_alpha + h.n_beta) % 2)
        if h.mapping == "parity":
            bits = [b ^ (bits[j - 1] if j else 0) for j, b in enumerate(bits)]
        out.append(int("".join(map(str, bits)), 2))
    return np.array(out)


def reference_uccsd_state(h, values):
    """prod_e expm(theta_e G_e) |HF> by dense matrices; t_e = 2 u_e theta_e (u_e: smallest term)."""
    n_modes = 2 * h.n_spatial_orbitals
    f = fock_index(h)
    hf = sum(1 << (n_modes - 1 - j) for j in [*range(h.n_alpha), *range(h.n_spatial_orbitals,
                                                                       h.n_spatial_orbitals + h.n_beta)])
    psi = (f == hf).astype(complex)
    assert psi.sum() == 1
    dim = 2 ** h.n_qubits
    j = np.arange(dim)
    # (-1)^{popcount(z & j)} for every z (rows) and j (columns)
    signs = 1 - 2 * (np.array([[bin(z & k).count("1") for k in j] for z in j]) % 2)
    for (occ, vir), t in zip(excitations(h.n_spatial_orbitals, h.n_alpha, h.n_beta), values):
        g = fock_generator(occ, vir, n_modes)[np.ix_(f, f)]
        # |Tr(X^x Z^z G)| / 2^n: the size of every Pauli term of G
        coeffs = np.abs(np.stack([signs @ g[j, j ^ x] for x in j])) / dim
        unit = coeffs[coeffs > 1e-12].min()
        psi = scipy.linalg.expm(t / (2 * unit) * g) @ psi
    return psi


# --- Hamiltonians --------------------------------------------------------------------------------

def test_the_five_molecules_are_shipped_in_the_papers_sizes():
    assert known_molecules() == sorted(QUBITS)
    for name, n in QUBITS.items():
        h = load_hamiltonian(name.upper())
        assert h.n_qubits == n and h.pauli_sum.n_wires == n
        meta = h.metadata
        assert meta["basis"] == "sto-3g" and meta["geometry"]["unit"] == "angstrom"
        assert {"pyscf", "qiskit-nature"} <= set(meta["versions"])


@pytest.mark.parametrize("name", sorted(QUBITS))
def test_exact_energy_agrees_with_pyscf_fci_and_hf_bitstring_with_rhf(name):
    h = load_hamiltonian(name)
    assert h.exact_energy == pytest.approx(h.metadata["reference_energy"], abs=1e-7)
    if h.n_qubits <= 6:  # BeH2's 14-qubit matrix takes a minute to build
        assert h.exact_ground_energy() == pytest.approx(h.exact_energy, abs=1e-8)
    assert h.hartree_fock_energy() == pytest.approx(h.metadata["hf_energy"], abs=1e-7)
    assert h.exact_energy < h.hartree_fock_energy()


def test_h2_matches_the_textbook_values():
    h = load_hamiltonian("h2")  # STO-3G at 0.735 A: FCI -1.137306, RHF -1.116999
    assert h.exact_energy == pytest.approx(-1.137306, abs=1e-6)
    assert h.hartree_fock_energy() == pytest.approx(-1.116999, abs=1e-6)
    assert h.constant == pytest.approx(0.719969, abs=1e-6)  # nuclear repulsion


def test_energy_of_a_state_is_the_pauli_sum_plus_the_constant():
    h = load_hamiltonian("lih")
    state = qml.simulate(uccsd(h), torch.full((8,), 0.1, dtype=torch.float64), dtype=torch.complex128)
    dense = h.matrix().toarray()
    psi = state[0].numpy()
    assert h.energy(state).item() == pytest.approx((psi.conj() @ dense @ psi).real, abs=1e-10)


def test_unknown_molecule_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown molecule 'n2'; known molecules: beh2, ch4, h2, h2o, lih"):
        load_hamiltonian("n2")


@pytest.mark.parametrize("change,message", [
    (lambda r: r["terms"].append(["XQ", 0.1]), "term 5: malformed Pauli label 'XQ'"),
    (lambda r: r["terms"].append(["XXX", 0.1]), "has 3 characters, n_qubits is 2"),
    (lambda r: r["terms"].append(["XY", "a"]), "coefficient must be a finite number"),
    (lambda r: r.pop("exact_energy"), "missing field(s) exact_energy"),
    (lambda r: r.pop("terms"), "missing field(s) terms"),
    (lambda r: r.update(mapping="bravyi_kitaev"), "mapping must be one of"),
    (lambda r: r.update(n_qubits=4), "term 0: Pauli label 'II' has 2 characters, n_qubits is 4"),
    (lambda r: r["active_space"].update(num_spatial_orbitals=3),
     "3 spatial orbitals under parity with two-qubit reduction give 4 qubits, n_qubits is 2"),
])
def test_a_malformed_file_names_the_file_and_the_problem(tmp_path, change, message):
    record = json.loads((DATA_DIR / "h2.json").read_text())
    change(record)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(record))
    with pytest.raises(ValueError) as err:
        load_hamiltonian(str(path))
    assert str(path) in str(err.value) and message in str(err.value)


def test_loading_imports_no_chemistry_no_qiskit_no_noise():
    code = ("import sys, qml, qml.vqe; h = qml.vqe.load_hamiltonian('beh2'); "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('pyscf', 'qiskit_nature', 'qiskit', 'noise', 'torch', 'scipy')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.skipif(not HAS_CHEM, reason=NO_CHEM)
def test_regenerating_h2_reproduces_the_shipped_file():
    from qml.vqe.generate import generate

    new = generate("h2")
    old = json.loads((DATA_DIR / "h2.json").read_text())
    assert [t[0] for t in new["terms"]] == [t[0] for t in old["terms"]]
    np.testing.assert_allclose([t[1] for t in new["terms"]], [t[1] for t in old["terms"]], atol=1e-9)
    for key in ("constant", "exact_energy", "reference_energy", "hf_energy"):
        assert new[key] == pytest.approx(old[key], abs=1e-9)
    assert new["n_qubits"] == 2 and new["mapping"] == "parity" and new["two_qubit_reduction"]


# --- the mapping and the ansatz ---------------------------------------------------------------------

@pytest.mark.skipif(not HAS_CHEM, reason=NO_CHEM)
def test_our_mappings_agree_with_qiskit_nature():
    from qiskit_nature.second_q.mappers import JordanWignerMapper, ParityMapper
    from qiskit_nature.second_q.operators import FermionicOp

    from qml.vqe import fermion

    n = 6
    # spin-conserving (alpha: modes 0-2, beta: 3-5), as the two-qubit reduction needs
    ops = {"+_1 -_0": 0.7, "+_0 -_1": 0.7, "+_2 +_4 -_3 -_0": 0.3, "+_0 +_3 -_4 -_2": 0.3,
           "+_5 -_3": -0.2, "+_2 -_2": 0.5, "+_3 -_3 +_0 -_0": 0.1}
    for mine, theirs, reduce in [("jordan_wigner", JordanWignerMapper(), False),
                                 ("parity", ParityMapper(), False),
                                 ("parity", ParityMapper(num_particles=(2, 1)), True)]:
        q = theirs.map(FermionicOp(ops, num_spin_orbitals=n)).simplify()
        expected = {label[::-1]: c for label, c in zip(q.paulis.to_labels(), q.coeffs)}
        op = {}
        for text, c in ops.items():
            factors = [(int(t[2:]), t[0] == "+") for t in text.split()]
            op = fermion.add(op, fermion.product(factors, n, mine), c)
        width = n
        if reduce:
            op, width = fermion.reduce_two_qubits(op, n, 2, 1)
        got = {label: c for c, label in fermion.to_paulis(op, width)}
        assert set(got) == set(expected)
        assert all(abs(got[k] - expected[k]) < 1e-12 for k in got)


@pytest.mark.parametrize("label", ["XYZ", "ZIY", "YYX", "IXI", "ZZZ"])
@pytest.mark.parametrize("multiple", [1, -2])
def test_pauli_rotation_is_the_exponential(label, multiple):
    t = 0.37
    c = pauli_rotation(qml.Circuit(3).h(0).rx(1, 0.4).ry(2, 1.1), label, "t", multiple)
    start = qml.simulate(qml.Circuit(3).h(0).rx(1, 0.4).ry(2, 1.1), dtype=torch.complex128)[0].numpy()
    expected = scipy.linalg.expm(-0.5j * multiple * t * pauli_matrix(label)) @ start
    got = qml.simulate(c, torch.tensor([t], dtype=torch.float64), dtype=torch.complex128)[0].numpy()
    np.testing.assert_allclose(got, expected, atol=1e-10)


@pytest.mark.parametrize("name", ["h2", "lih", "h2o"])
def test_uccsd_circuit_equals_the_dense_product_of_exponentials(name):
    h = load_hamiltonian(name)
    c = uccsd(h)
    assert len(c.parameters) == len(excitations(h.n_spatial_orbitals, h.n_alpha, h.n_beta))
    values = np.random.default_rng(7).normal(0, 0.3, len(c.parameters))
    got = qml.simulate(c, torch.tensor(values), dtype=torch.complex128)[0].numpy()
    np.testing.assert_allclose(got, reference_uccsd_state(h, values), atol=1e-9)


def test_uccsd_at_zero_is_hartree_fock():
    for name in ("h2", "lih", "ch4"):
        h = load_hamiltonian(name)
        c = uccsd(h)
        e = energy(c, h, torch.zeros(len(c.parameters), dtype=torch.float64))
        assert e.item() == pytest.approx(h.hartree_fock_energy(), abs=1e-9)


def test_hardware_efficient_ansatz_shape():
    c = hardware_efficient(4, layers=3, initial_bits=[1, 1, 0, 0])
    assert len(c.parameters) == 2 * 4 * 4 and c.count_ops()["cx"] == 9 and c.count_ops()["x"] == 2


# --- VQE ------------------------------------------------------------------------------------------

def test_uccsd_on_h2_reaches_the_exact_ground_state():
    h = load_hamiltonian("h2")
    r = vqe(uccsd(h), h, steps=150, lr=0.1, schedule="cosine", progress=False)
    assert abs(r.energy - h.exact_energy) < 1e-6
    assert len(r.energies) == 150 and r.energies[0] == pytest.approx(h.hartree_fock_energy())


def test_uccsd_on_lih_reaches_chemical_accuracy():
    h = load_hamiltonian("lih")
    r = vqe(uccsd(h), h, steps=80, lr=0.05, progress=False)
    assert abs(r.error) < 1.6e-3 and r.error > -1e-9   # variational: never below the exact energy


@pytest.mark.parametrize("gradient", ["autograd", "parameter-shift"])
def test_the_gradient_methods_agree(gradient):
    h = load_hamiltonian("lih")
    c = uccsd(h)
    grads = []
    for method in ("adjoint", gradient):
        p = torch.linspace(-0.2, 0.3, len(c.parameters), dtype=torch.float64).requires_grad_(True)
        energy(c, h, p, gradient=method).backward()
        grads.append(p.grad)
    torch.testing.assert_close(grads[0], grads[1], atol=1e-9, rtol=0)


def test_shot_estimates_are_seeded_and_unbiased():
    h = load_hamiltonian("lih")
    c = uccsd(h)
    p = torch.full((len(c.parameters),), 0.05, dtype=torch.float64)
    a = estimate_energy(c, h, p, shots=2000, seed=5)
    assert a == estimate_energy(c, h, p, shots=2000, seed=5) != estimate_energy(c, h, p, shots=2000, seed=6)
    exact = energy(c, h, p).item()
    assert abs(estimate_energy(c, h, p, shots=200_000, seed=1) - exact) < 5e-3


def test_shot_gradient_approaches_the_exact_gradient():
    h = load_hamiltonian("h2")
    c = uccsd(h)
    p = torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64, requires_grad=True)
    energy(c, h, p).backward()
    _, grad = _ShotObjective(c, h, 200_000, torch.complex128)(p, np.random.SeedSequence(0))
    np.testing.assert_allclose(grad.numpy(), p.grad.numpy(), atol=1e-2)


def test_vqe_with_shots_is_reproducible_and_gets_close():
    h = load_hamiltonian("h2")
    runs = [vqe(uccsd(h), h, steps=40, lr=0.1, shots=2000, seed=3, progress=False) for _ in range(2)]
    assert runs[0].energies == runs[1].energies and runs[0].params == runs[1].params
    assert abs(runs[0].error) < 5e-3


def test_resume_from_a_checkpoint_ends_where_a_straight_run_does(tmp_path):
    h = load_hamiltonian("h2")
    straight = vqe(uccsd(h), h, steps=20, lr=0.1, progress=False)
    path = tmp_path / "vqe.pt"
    with pytest.raises(KeyboardInterrupt):
        def stop(step, e):
            if step == 12:
                raise KeyboardInterrupt
        vqe(uccsd(h), h, steps=20, lr=0.1, progress=False, checkpoint=path, checkpoint_every=5,
            callback=stop)
    assert torch.load(path, weights_only=True)["step"] == 10
    resumed = vqe(uccsd(h), h, steps=20, lr=0.1, progress=False, checkpoint=path, resume=True)
    assert resumed.energies == pytest.approx(straight.energies, abs=1e-12)
    assert resumed.params == pytest.approx(straight.params, abs=1e-12)
    with pytest.raises(ValueError, match="different run.*lr: 0.1 there, 0.2 here"):
        vqe(uccsd(h), h, steps=20, lr=0.2, progress=False, checkpoint=path, resume=True)


def test_bad_arguments_are_clear():
    h = load_hamiltonian("h2")
    with pytest.raises(ValueError, match="the circuit has 3 wires, the Hamiltonian 'h2' acts on 2"):
        vqe(qml.Circuit(3).ry(0, "a"), h, steps=1, progress=False)
    with pytest.raises(ValueError, match="unknown gradient method"):
        vqe(uccsd(h), h, steps=1, gradient="finite", progress=False)
    with pytest.raises(ValueError, match="shot-based gradients need rotations"):
        vqe(qml.Circuit(2).u3(0, "a", "b", "c"), h, steps=1, shots=10, progress=False)


# --- CLI ------------------------------------------------------------------------------------------

def test_cli_prints_the_table_and_writes_the_plot(tmp_path, capsys):
    from benchmarks.cli import main

    out, record = tmp_path / "run", tmp_path / "r.json"
    assert main(["vqe", "--molecule", "h2", "--steps", "30", "--lr", "0.1", "--no-progress",
                 "--out", str(out), "--json", str(record)]) == 0
    text = capsys.readouterr().out
    for word in ("energy", "exact", "error_mha", "params", "steps", "time_s", "parameters (3)"):
        assert word in text
    row = json.loads(record.read_text())["rows"][0]
    assert row["molecule"] == "h2" and row["qubits"] == 2 and row["steps"] == 30
    assert abs(row["error_mha"]) < 1.6
    assert (out / "energy.png").stat().st_size > 0 and (out / "vqe.pt").exists()
    assert len(json.loads((out / "result.json").read_text())["energies"]) == 30
    assert main(["vqe", "--molecule", "h2", "--ansatz", "hea", "--layers", "1", "--steps", "5",
                 "--no-progress"]) == 0


@pytest.mark.parametrize("argv,message", [
    (["--molecule", "n2"], "unknown molecule 'n2'; known molecules: beh2, ch4, h2, h2o, lih"),
    (["--ansatz", "ucc"], "unknown ansatz 'ucc'; valid ansatze: uccsd, hea, searched"),
    (["--ansatz", "searched", "--space", "nope"], "unknown design space 'nope'; valid spaces:"),
    (["--mapping", "0,1"], "--mapping needs --device"),
    (["--device", "santiago", "--mapping", "a,b"], "--mapping must be comma-separated qubit numbers"),
])
def test_cli_bad_inputs_name_the_choices(argv, message, capsys):
    from benchmarks.cli import main

    assert main(["vqe", *argv, "--steps", "1", "--no-progress"]) == 2
    assert message in capsys.readouterr().err


# --- QuantumNAS for VQE ---------------------------------------------------------------------------

def test_the_hartree_fock_encoder_reads_no_features_and_prepares_hf():
    from qml.vqe.search import hartree_fock_encoder

    h = load_hamiltonian("lih")
    enc = hartree_fock_encoder(h)
    assert enc.n_features == 0
    state = qml.simulate(enc.circuit(h.n_qubits), dtype=torch.complex128)
    assert float(h.energy(state)[0]) == pytest.approx(h.hartree_fock_energy(), abs=1e-9)


def test_searched_vqe_on_h2_with_tiny_settings_returns_a_finite_energy():
    from qml.nas import SearchConfig
    from qml.vqe.search import EnergyScorer, searched_vqe

    h = load_hamiltonian("h2")
    config = SearchConfig(population=4, parents=2, mutants=1, crossovers=1, iterations=2, seed=0)
    r = searched_vqe(h, EnergyScorer("h2"), space="zzry", n_blocks=1, train_steps=20, search=config,
                     finetune_steps=10, progress=False)
    assert np.isfinite(r["result"].energy) and r["result"].energy > h.exact_energy - 1e-9
    assert r["circuit"].ops[0].name == "x" and len(r["history"]) == 2 and len(r["train_energies"]) == 20
    # the search's fitness is the energy of the inherited angles
    inherited = float(energy(r["circuit"], h, torch.tensor([r["inherited"][n] for n in r["circuit"].parameters],
                                                         dtype=torch.float64)))
    assert r["search_loss"] == pytest.approx(inherited, abs=1e-9)


def test_searched_vqe_names_an_unknown_design_space():
    from qml.vqe.search import EnergyScorer, searched_vqe

    with pytest.raises(ValueError, match="unknown design space 'nope'; valid spaces: "):
        searched_vqe(load_hamiltonian("h2"), EnergyScorer("h2"), space="nope", progress=False)


def test_cli_searched_noise_free_writes_the_search_plot(tmp_path, capsys):
    from benchmarks.cli import main

    out = tmp_path / "s"
    assert main(["vqe", "--molecule", "h2", "--ansatz", "searched", "--blocks", "1", "--train-steps", "10",
                 "--population", "4", "--iterations", "2", "--steps", "5", "--no-progress",
                 "--out", str(out)]) == 0
    assert "searched: u3cu3 x1" in capsys.readouterr().out
    assert (out / "search.png").stat().st_size > 0 and (out / "search" / "search.json").exists()
