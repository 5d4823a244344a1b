"""``qml-bench vqe``: VQE on a molecule's Hamiltonian; the energy against the exact ground state.

Example:
    qml-bench vqe --molecule h2
    qml-bench vqe --molecule lih --steps 150 --lr 0.05 --out results/vqe/lih
    qml-bench vqe --molecule h2 --ansatz hea --layers 2 --shots 4000
    qml-bench vqe --molecule h2 --ansatz uccsd --device santiago
    qml-bench vqe --molecule h2 --ansatz searched --device santiago --space u3cu3 --blocks 2

The Hamiltonians are those shipped in ``qml/vqe/data`` (STO-3G, equilibrium geometries, the
active spaces and mappings recorded in each file). ``--out DIR`` receives ``energy.png`` (the
energy per step against the exact energy), ``result.json`` (energies per step, final
parameters) and the checkpoint ``vqe.pt``, from which ``--resume`` continues.

``--device NAME`` adds the noisy energy of the trained circuit on that device
(:func:`noise.vqe.noisy_energy`: ``--noisy-method density``, exact, gate noise, measurement
channels and readout error; or ``aer``, ``--noisy-shots`` per measurement group), on
``--mapping`` (default: the transpiler's choice) or, for a searched circuit, the searched
mapping. ``--ansatz searched`` is QuantumNAS for VQE (:func:`qml.vqe.search.searched_vqe`): a
SuperCircuit of ``--space`` with ``--blocks`` blocks after the Hartree-Fock X gates, trained
``--train-steps`` on the noise-free energy, then an evolutionary search of (SubCircuit,
mapping) whose fitness is the noisy energy on ``--device`` (noise-free without one), then
``--steps`` of noise-free fine-tuning; ``--out`` also receives ``search.png`` (best fitness
per iteration) and the search checkpoint ``search/search.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from benchmarks.report import Report, atomic_write_text, versions

COLUMNS = ["molecule", "qubits", "ansatz", "params", "steps", "shots", "energy", "exact",
           "error_mha", "hf", "device", "mapping", "device_2q", "noisy_energy", "noisy_error_mha",
           "time_s"]
ANSATZE = ("uccsd", "hea", "searched")


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
    parser.add_argument("--device", help="also evaluate the noisy energy on this device (e.g. santiago); "
                        "with --ansatz searched, the search's fitness is that noisy energy")
    parser.add_argument("--mapping", help="logical wire -> physical qubit on --device, e.g. 1,2 "
                        "(default: the transpiler's choice; searched: the searched mapping)")
    parser.add_argument("--noisy-method", default="density", choices=("density", "aer"),
                        help="density (exact, default) or aer (shots per measurement group)")
    parser.add_argument("--noisy-shots", type=int, default=8192, help="shots with --noisy-method aer")
    parser.add_argument("--space", default="u3cu3", help="searched: the design space (default u3cu3)")
    parser.add_argument("--blocks", type=int, default=2, help="searched: SuperCircuit blocks (default 2)")
    parser.add_argument("--train-steps", type=int, default=300,
                        help="searched: SuperCircuit training steps (default 300)")
    parser.add_argument("--train-lr", type=float, default=0.05, help="searched: its Adam lr (default 0.05)")
    parser.add_argument("--population", type=int, default=20, help="searched: population (default 20)")
    parser.add_argument("--iterations", type=int, default=10, help="searched: iterations (default 10)")
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


def _mapping(text: str | None):
    if not text:
        return None
    try:
        return tuple(int(q) for q in text.split(","))
    except ValueError:
        raise ValueError(f"--mapping must be comma-separated qubit numbers such as 1,2; got {text!r}") \
            from None


def _two_qubit_gates(circuit, params, device, mapping) -> int:
    from noise.program import noisy_program

    program = noisy_program(circuit.bind(params), device, mapping)
    return sum(v for k, v in program.count_ops.items() if k in ("cx", "ecr", "cz"))


def run(args: argparse.Namespace) -> Report:
    from qml.vqe import hardware_efficient, load_hamiltonian, uccsd, vqe

    import time

    start = time.perf_counter()
    torch.set_num_threads(args.threads)
    if args.ansatz not in ANSATZE:
        raise ValueError(f"unknown ansatz {args.ansatz!r}; valid ansatze: {', '.join(ANSATZE)}")
    if args.steps < 0 or args.lr <= 0 or (args.shots is not None and args.shots < 1):
        raise ValueError("--steps must be >= 0, --lr > 0 and --shots >= 1")
    ham = load_hamiltonian(args.molecule)
    device = None
    if args.device:
        from noise.devices import Device

        device = Device.from_name(args.device)
    mapping = _mapping(args.mapping)
    if mapping is not None and device is None:
        raise ValueError("--mapping needs --device")
    out = Path(args.out) if args.out else None
    search = None
    if args.ansatz == "searched":
        from qml.nas import SearchConfig
        from qml.vqe.search import EnergyScorer, searched_vqe

        if args.resume or args.shots:
            raise ValueError("--ansatz searched trains noise-free and does not resume: drop "
                             "--resume and --shots")
        if args.population < 4 or args.iterations < 1 or args.train_steps < 0:
            raise ValueError("--population must be >= 4, --iterations >= 1, --train-steps >= 0")
        if device is not None:
            from noise.vqe import VQEScorer

            scorer = VQEScorer(args.molecule, args.device, args.noisy_method, args.noisy_shots, args.seed)
        else:
            scorer = EnergyScorer(args.molecule)
        parents = max(2, args.population // 4)
        mutants = (args.population - parents) // 2
        config = SearchConfig(population=args.population, parents=parents, mutants=mutants,
                              crossovers=args.population - parents - mutants,
                              iterations=args.iterations, seed=args.seed,
                              n_physical=None if device is None else device.n_qubits)
        search = searched_vqe(ham, scorer, space=args.space, n_blocks=args.blocks,
                              train_steps=args.train_steps, train_lr=args.train_lr, search=config,
                              finetune_steps=args.steps, finetune_lr=args.lr, seed=args.seed,
                              out_dir=None if out is None else out / "search",
                              progress=not args.no_progress)
        circuit, result = search["circuit"], search["result"]
        if device is not None and mapping is None:
            mapping = search["mapping"]
    else:
        if args.ansatz == "uccsd":
            circuit, init = uccsd(ham), "zeros"
        else:
            circuit, init = hardware_efficient(ham.n_qubits, args.layers, ham.hartree_fock_bits()), "random"
        result = vqe(circuit, ham, steps=args.steps, lr=args.lr, seed=args.seed, shots=args.shots,
                     gradient=args.gradient, init=init, schedule=args.schedule,
                     progress=not args.no_progress, checkpoint=None if out is None else out / "vqe.pt",
                     resume=args.resume)
    noisy = None
    if device is not None:
        from noise.vqe import noisy_energy

        noisy = noisy_energy(circuit, ham, device, result.params, mapping, method=args.noisy_method,
                             shots=args.noisy_shots, seed=args.seed)
    meta = ham.metadata
    space = meta["active_space"]
    config = {"molecule": ham.name, "ansatz": args.ansatz, "layers": args.layers, "steps": args.steps,
              "lr": args.lr, "schedule": args.schedule, "shots": args.shots, "gradient": args.gradient,
              "mapping": ham.mapping, "two_qubit_reduction": ham.two_qubit_reduction,
              "basis": meta["basis"], "active_space": space["note"],
              "geometry": meta["geometry"]["source"], "device": args.device,
              "qubit_mapping": None if mapping is None else list(mapping),
              "noisy_method": args.noisy_method if device else None,
              "noisy_shots": args.noisy_shots if device and args.noisy_method == "aer" else None}
    if search is not None:
        config.update(space=args.space, blocks=args.blocks, train_steps=args.train_steps,
                      train_lr=args.train_lr, population=args.population, iterations=args.iterations)
    report = Report(f"VQE {meta.get('formula', ham.name)} ({args.ansatz})", COLUMNS, config=config)
    report.add(molecule=ham.name, qubits=ham.n_qubits, ansatz=args.ansatz, params=len(circuit.parameters),
               steps=result.steps, shots=args.shots or "exact", energy=result.energy,
               exact=ham.exact_energy, error_mha=1e3 * result.error, hf=ham.hartree_fock_energy(),
               device=args.device or "-",
               mapping="-" if mapping is None else ",".join(map(str, mapping)) if device else "-",
               device_2q=_two_qubit_gates(circuit, result.params, device, mapping) if device else None,
               noisy_energy=noisy,
               noisy_error_mha=None if noisy is None else 1e3 * (noisy - ham.exact_energy),
               time_s=result.wall_s if search is None else time.perf_counter() - start)
    shown = list(result.params.items())
    values = ", ".join(f"{k}={v:.5f}" for k, v in shown[:12]) + (", ..." if len(shown) > 12 else "")
    report.notes += [f"parameters ({len(shown)}): {values}",
                     f"{meta['basis']}, {ham.mapping}{' + two-qubit reduction' if ham.two_qubit_reduction else ''}; "
                     f"{space['note']}", f"geometry: {meta['geometry']['source']}",
                     f"energies in hartree; exact: lowest eigenvalue in the same qubit space; "
                     f"chemical accuracy is 1.6 mHa"]
    if device is not None:
        report.notes.append(f"noisy_energy: on {args.device} ({args.noisy_method}"
                            + (f", {args.noisy_shots} shots per group" if args.noisy_method == "aer" else
                               ": exact density matrix, gate noise, measurement channels, readout error")
                            + f"); mapping {'the transpiler' + chr(39) + 's choice' if mapping is None else list(mapping)}"
                            + "; device_2q: two-qubit gates after transpiling")
    if search is not None:
        report.notes.append(f"searched: {args.space} x{args.blocks}, gene {list(search['gene'])}, "
                            f"{search['evaluations']} candidates scored; search fitness (inherited "
                            f"angles) {search['search_loss']:.6f}; ops {dict(circuit.count_ops())}")
    if out is not None:
        plot_energies(result.energies, ham.exact_energy, out / "energy.png",
                      title=f"VQE {meta.get('formula', ham.name)} ({args.ansatz}, {ham.n_qubits} qubits)")
        record = {"config": config, "versions": versions(), "seed": args.seed, **result.to_dict(),
                  "noisy_energy": noisy}
        if search is not None:
            from qml.nas.search import plot_search

            plot_search(search["history"], out / "search.png",
                        title=f"search {ham.name} ({args.device or 'noise-free'})")
            record.update(gene=list(search["gene"]), search_history=search["history"],
                          train_energies=search["train_energies"], circuit=circuit.to_json())
        atomic_write_text(out / "result.json", json.dumps(record, indent=1) + "\n")
        report.notes.append(f"wrote {out / 'energy.png'} and {out / 'result.json'}")
    return report
