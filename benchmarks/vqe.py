"""``qml-bench vqe``: VQE on a molecule's Hamiltonian; the energy against the exact ground state.

Example:
    qml-bench vqe --molecule h2
    qml-bench vqe --molecule lih --steps 150 --lr 0.05 --out results/vqe/lih
    qml-bench vqe --molecule h2 --ansatz hea --layers 2 --shots 4000

The Hamiltonians are those shipped in ``qml/vqe/data`` (STO-3G, equilibrium geometries, the
active spaces and mappings recorded in each file). ``--out DIR`` receives ``energy.png`` (the
energy per step against the exact energy), ``result.json`` (energies per step, final
parameters) and the checkpoint ``vqe.pt``, from which ``--resume`` continues.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from benchmarks.report import Report, atomic_write_text, versions

COLUMNS = ["molecule", "qubits", "ansatz", "params", "steps", "shots", "energy", "exact",
           "error_mha", "hf", "time_s"]
ANSATZE = ("uccsd", "hea")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from qml.vqe.hamiltonian import known_molecules

    parser.add_argument("--molecule", default="h2", help=f"one of {', '.join(known_molecules())} "
                        "(default h2)")
    parser.add_argument("--ansatz", default="uccsd", help="uccsd (default) or hea "
                        "(hardware-efficient: RY-RZ layers and CNOT chains, from Hartree-Fock)")
    parser.add_argument("--layers", type=int, default=2, help="entangling layers of hea (default 2)")
    parser.add_argument("--steps", type=int, default=100, help="Adam steps (default 100)")
    parser.add_argument("--lr", type=float, default=0.05, help="Adam learning rate (default 0.05)")
    parser.add_argument("--schedule", default="constant", choices=("constant", "cosine"))
    parser.add_argument("--shots", type=int, help="estimate energies from this many shots per "
                        "measurement group (parameter-shift gradients); default: exact")
    parser.add_argument("--gradient", default="adjoint", choices=("adjoint", "autograd", "parameter-shift"))
    parser.add_argument("--resume", action="store_true", help="continue from --out's checkpoint")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def plot_energies(energies: list[float], exact: float | None, path, title: str = "") -> None:
    """Energy per step (and the exact ground-state energy) to a PNG, atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from qml.files import save_figure

    fig, (ax, ax_err) = plt.subplots(1, 2, figsize=(9, 3.5))
    steps = range(1, len(energies) + 1)
    ax.plot(steps, energies, label="VQE")
    if exact is not None:
        ax.axhline(exact, color="k", ls="--", lw=1, label="exact")
        err = [max(abs(e - exact), 1e-12) * 1e3 for e in energies]
        ax_err.semilogy(steps, err)
        ax_err.axhline(1.6, color="r", ls=":", lw=1, label="chemical accuracy (1.6 mHa)")
        ax_err.set(xlabel="step", ylabel="|E - E_exact| (mHa)")
        ax_err.legend()
    ax.set(xlabel="step", ylabel="energy (Ha)")
    ax.legend()
    for a in (ax, ax_err):
        a.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def run(args: argparse.Namespace) -> Report:
    from qml.vqe import hardware_efficient, load_hamiltonian, uccsd, vqe

    torch.set_num_threads(args.threads)
    if args.ansatz not in ANSATZE:
        raise ValueError(f"unknown ansatz {args.ansatz!r}; valid ansatze: {', '.join(ANSATZE)}")
    if args.steps < 0 or args.lr <= 0 or (args.shots is not None and args.shots < 1):
        raise ValueError("--steps must be >= 0, --lr > 0 and --shots >= 1")
    ham = load_hamiltonian(args.molecule)
    if args.ansatz == "uccsd":
        circuit, init = uccsd(ham), "zeros"
    else:
        circuit, init = hardware_efficient(ham.n_qubits, args.layers, ham.hartree_fock_bits()), "random"
    out = Path(args.out) if args.out else None
    result = vqe(circuit, ham, steps=args.steps, lr=args.lr, seed=args.seed, shots=args.shots,
                 gradient=args.gradient, init=init, schedule=args.schedule,
                 progress=not args.no_progress, checkpoint=None if out is None else out / "vqe.pt",
                 resume=args.resume)
    meta = ham.metadata
    space = meta["active_space"]
    config = {"molecule": ham.name, "ansatz": args.ansatz, "layers": args.layers, "steps": args.steps,
              "lr": args.lr, "schedule": args.schedule, "shots": args.shots, "gradient": args.gradient,
              "mapping": ham.mapping, "two_qubit_reduction": ham.two_qubit_reduction,
              "basis": meta["basis"], "active_space": space["note"],
              "geometry": meta["geometry"]["source"]}
    report = Report(f"VQE {meta.get('formula', ham.name)} ({args.ansatz})", COLUMNS, config=config)
    report.add(molecule=ham.name, qubits=ham.n_qubits, ansatz=args.ansatz, params=len(circuit.parameters),
               steps=result.steps, shots=args.shots or "exact", energy=result.energy,
               exact=ham.exact_energy, error_mha=1e3 * result.error, hf=ham.hartree_fock_energy(),
               time_s=result.wall_s)
    shown = list(result.params.items())
    values = ", ".join(f"{k}={v:.5f}" for k, v in shown[:12]) + (", ..." if len(shown) > 12 else "")
    report.notes += [f"parameters ({len(shown)}): {values}",
                     f"{meta['basis']}, {ham.mapping}{' + two-qubit reduction' if ham.two_qubit_reduction else ''}; "
                     f"{space['note']}", f"geometry: {meta['geometry']['source']}",
                     f"energies in hartree; exact: lowest eigenvalue in the same qubit space; "
                     f"chemical accuracy is 1.6 mHa"]
    if out is not None:
        plot_energies(result.energies, ham.exact_energy, out / "energy.png",
                      title=f"VQE {meta.get('formula', ham.name)} ({args.ansatz}, {ham.n_qubits} qubits)")
        atomic_write_text(out / "result.json", json.dumps(
            {"config": config, "versions": versions(), "seed": args.seed, **result.to_dict()},
            indent=1) + "\n")
        report.notes.append(f"wrote {out / 'energy.png'} and {out / 'result.json'}")
    return report
