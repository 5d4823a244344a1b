"""``qml-bench sea``: QuantumSEA, sparse training at a fixed gate budget, against baselines of as many gates.

Example:
    qml-bench sea --task mnist4 --device santiago --density 0.5 --out results/sea

The dense design space (``--space`` with ``--blocks`` blocks) has G trainable gates; every model
below has ``budget = round(density * G)`` of them (:mod:`qml.nas.sparse`):

- ``QuantumSEA``: a seeded random active set, trained with in-time sparse exploration (every
  ``--every`` steps prune the least salient active gates, grow the inactive ones of largest
  average gradient; ``--swap-frac`` of the budget at first, cosine decay to none at
  ``--stop`` of training);
- ``human``: the design space cut to the budget (its first ``budget`` gates: whole blocks, then
  the first gates of the next), trained with that mask fixed;
- ``random``: ``--random`` random subsets of ``budget`` gates (seeds ``seed``, ``seed+1``, ...;
  the first is QuantumSEA's starting set), each trained with its mask fixed;
- ``dense``: the whole design space, for reference (not at equal gate count);
- with ``--nas-run DIR``: QuantumNAS's searched (and pruned) circuits read from
  ``DIR/run.json`` of a ``qml-bench nas --device`` run (not retrained; their device accuracy
  was measured there, with the searched mapping).

All are trained noise-free with the same schedule (``--epochs``, ``--batch-size``, ``--lr``,
seed) and evaluated on the first ``--test-samples`` test images noise-free and on the device:
exact density-matrix ``<Z>`` under the device's noise with readout errors
(:func:`noise.scorers.density_scorer`), the circuit transpiled with the trivial mapping
(wire w on qubit w) and its angles bound. ``depth`` and ``device_gates`` are those of the
transpiled circuit (encoder included); ``gates`` and ``params`` those of the exported ansatz.

Every model trains in ``--out/<task>/<variant>`` with checkpoints; a killed run continues with
``--resume`` (a finished model's ``result.json`` is reused). ``sea.png``: validation accuracy
per epoch, and QuantumSEA's mask over the epochs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from benchmarks.report import Report, atomic_write_text
from qml.data import TASKS, load_task
from qml.files import save_figure
from qml.layers import SPACES, build_space, get_encoder
from qml.model import QNN
from qml.train import LAST, TrainConfig, Trainer, evaluate

COLUMNS = ["model", "gates", "params", "depth", "device_gates", "swapped", "noise_free_acc", "device_acc"]
VQE_COLUMNS = ["model", "gates", "params", "swapped", "energy", "error"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", default="mnist4", help=f"task (default mnist4); of {', '.join(TASKS)}; "
                        "or a molecule (h2, lih, ...): VQE energies, noise-free")
    parser.add_argument("--steps", type=int, default=300, help="VQE: Adam steps (default 300)")
    parser.add_argument("--device", default="santiago", help="device name (default santiago)")
    parser.add_argument("--density", type=float, default=0.5,
                        help="fraction of the design space's gates kept active, in (0, 1] (default 0.5)")
    parser.add_argument("--space", default="u3cu3", help=f"design space (default u3cu3); of {', '.join(SPACES)}")
    parser.add_argument("--blocks", type=int, default=4, help="blocks of the dense design space (default 4)")
    parser.add_argument("--every", type=int, default=10, help="swap every k training steps (default 10)")
    parser.add_argument("--swap-frac", type=float, default=0.3,
                        help="fraction of the budget swapped at the first swap, cosine decay (default 0.3)")
    parser.add_argument("--stop", type=float, default=0.75,
                        help="fraction of training after which the mask is frozen (default 0.75)")
    parser.add_argument("--ema", type=float, default=0.9, help="decay of the gradient average (default 0.9)")
    parser.add_argument("--random", type=int, default=3, help="random circuits of as many gates (default 3)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--test-samples", type=int, default=0,
                        help="test images evaluated (default 0: all)")
    parser.add_argument("--nas-run", metavar="DIR", help="a qml-bench nas --device output directory "
                        "(its run.json) whose QuantumNAS circuits join the table")
    parser.add_argument("--data-dir", help="data directory (default $QML_DATA_DIR, then ../shared/data)")
    parser.add_argument("--resume", action="store_true", help="continue a killed run in --out")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-progress", action="store_true")


def _check(args) -> None:
    from qml.nas.sparse import check_density, check_every

    check_density(args.density)
    check_every(args.every)
    from qml.vqe import known_molecules

    if args.task not in TASKS and args.task not in known_molecules():
        raise ValueError(f"unknown task {args.task!r}; tasks: {', '.join(TASKS)}; molecules: "
                         f"{', '.join(known_molecules())}")
    if args.space not in SPACES:
        raise ValueError(f"unknown design space {args.space!r}; valid spaces: {', '.join(SPACES)}")
    for name in ("blocks", "epochs", "batch_size", "steps"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(args, name)}")
    for name in ("random", "test_samples"):
        if getattr(args, name) < 0:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 0, got {getattr(args, name)}")
    if not 0 <= args.swap_frac <= 1:
        raise ValueError(f"--swap-frac must be in [0, 1], got {args.swap_frac}")
    if not 0 < args.stop <= 1:
        raise ValueError(f"--stop must be in (0, 1], got {args.stop}")
    if not 0 <= args.ema < 1:
        raise ValueError(f"--ema must be in [0, 1), got {args.ema}")
    if args.lr <= 0:
        raise ValueError(f"--lr must be positive, got {args.lr}")
    if args.nas_run and not (Path(args.nas_run) / "run.json").is_file():
        raise ValueError(f"--nas-run {args.nas_run}: no run.json there (give a qml-bench nas --out directory)")


def run(args: argparse.Namespace) -> Report:
    from noise.devices import Device

    _check(args)
    torch.set_num_threads(args.threads)
    if args.task not in TASKS:
        return _vqe(args)
    device = Device.from_name(args.device)
    out = Path(args.out or "results/sea")
    if not args.resume and out.exists() and any(out.rglob(LAST)):
        raise ValueError(f"--out {out} already holds runs: add --resume to continue them, or name another --out")
    nas = _read_nas(Path(args.nas_run)) if args.nas_run else []
    data = load_task(args.task, args.data_dir)
    n = args.test_samples or len(data.y_test)
    x_test, y_test = data.x_test[:n], data.y_test[:n]
    dense = build_space(args.space, data.n_wires, args.blocks)
    from qml.nas.sparse import SparseQNN

    probe = SparseQNN(QNN(data.n_wires, data.encoder, dense, n_classes=data.n_classes, seed=0), args.density)
    budget, n_gates = probe.budget, probe.n_gates
    settings = {k: v for k, v in vars(args).items() if k not in ("json", "out", "markdown", "module_name")}
    report = Report(f"QuantumSEA on {device.name}: {data.name}, {args.space} x{args.blocks} ({n_gates} gates), "
                    f"density {args.density:g} = {budget} gates, {args.epochs} epochs; test accuracy on "
                    f"{len(y_test)} test images", COLUMNS, config={**settings, "out": str(out)})
    scorer = _scorer(data, device, args.seed)
    variants = [("QuantumSEA", "sea", args.seed), ("human", "human", None)]
    variants += [(f"random (seed {args.seed + i})", f"random-{args.seed + i}", args.seed + i)
                 for i in range(args.random)]
    variants.append((f"dense ({n_gates} gates)", "dense", None))
    records = [_variant(args, data, device, scorer, dense, label, key, mask_seed, out, x_test, y_test)
               for label, key, mask_seed in variants]
    for r in records:
        report.add(**{k: r.get(k) for k in COLUMNS})
    rand = [r for r in records if r["model"].startswith("random")]
    if rand:
        report.add(model=f"random (mean of {len(rand)})", gates=budget,
                   params=rand[0]["params"], noise_free_acc=sum(r["noise_free_acc"] for r in rand) / len(rand),
                   device_acc=sum(r["device_acc"] for r in rand) / len(rand))
    for row in nas:
        report.add(**row)
    report.notes.append("device_acc: exact density-matrix <Z> under the device's noise and readout errors, "
                        "trivial mapping (wire w on qubit w), angles bound before transpiling; depth/device_gates: "
                        "the transpiled circuit, encoder included; gates/params: the ansatz")
    report.notes.append(f"QuantumSEA: swap every {args.every} steps, {args.swap_frac:g} of the budget at first "
                        f"(cosine decay, frozen after {args.stop:g} of training), gradient average decay {args.ema:g}"
                        + (f"; random (seed {args.seed}) is QuantumSEA's starting set trained without swaps"
                           if args.random else ""))
    if nas:
        report.notes.append(f"QuantumNAS rows: read from {Path(args.nas_run) / 'run.json'} (trained there; "
                            f"device_acc with its searched mapping; depth/device_gates as recorded there)")
    report.notes.append(f"runs, checkpoints and result.json per model in {out / data.name}")
    report.config["variants"] = [{k: v for k, v in r.items() if k != "history"} for r in records]
    report.config["nas"] = nas
    report.output(out / "sea.png", lambda: _plot(records, out / "sea.png"))
    return report


def _vqe(args) -> Report:
    """QuantumSEA on a molecule's energy: SEA, human, random, dense, against UCCSD and the exact
    energy (noise-free, exact expectations; Hartree-Fock state first)."""
    from qml.nas.sparse import gate_angles, sparse_vqe
    from qml.vqe import load_hamiltonian, uccsd, vqe

    h = load_hamiltonian(args.task)
    dense = build_space(args.space, h.n_qubits, args.blocks)
    out = Path(args.out or "results/sea") / args.task
    if not args.resume and out.exists() and any(out.glob("*.json")):
        raise ValueError(f"--out {out.parent} already holds {args.task} results: add --resume to reuse "
                         f"them, or name another --out")
    n_gates = len(gate_angles(dense, dense.parameters))
    budget = max(1, round(args.density * n_gates))
    report = Report(f"QuantumSEA VQE: {args.task} ({h.n_qubits} qubits), {args.space} x{args.blocks} "
                    f"({n_gates} gates), density {args.density:g} = {budget} gates, {args.steps} Adam steps "
                    f"(lr {args.lr:g}); exact energy {h.exact_energy:.6f} Ha", VQE_COLUMNS,
                    config={k: v for k, v in vars(args).items() if k not in ("json", "out", "markdown", "module_name")})
    common = dict(steps=args.steps, lr=args.lr, every=args.every, swap_frac=args.swap_frac, stop=args.stop,
                  ema=args.ema)
    variants = [("QuantumSEA", "sea", dict(seed=args.seed)),
                ("human", "human", dict(mask=[1] * budget + [0] * (n_gates - budget), swaps=False))]
    variants += [(f"random (seed {args.seed + i})", f"random-{args.seed + i}", dict(seed=args.seed + i, swaps=False))
                 for i in range(args.random)]

    def cached(key: str, compute) -> dict:
        done = out / f"{key}.json"
        if done.exists():
            return json.loads(done.read_text())
        result = compute()
        atomic_write_text(done, json.dumps(result) + "\n")
        return result

    def uccsd_row() -> dict:
        circuit = uccsd(h)
        res = vqe(circuit, h, steps=args.steps, lr=args.lr, seed=args.seed, progress=False)
        return {"model": "UCCSD", "gates": len(circuit.gates), "params": len(circuit.parameters),
                "energy": float(res.energy)}

    variants.append((f"dense ({n_gates} gates)", "dense", dict(density=1.0, swaps=False)))
    rows = [cached(key, lambda: {"model": label, **sparse_vqe(h, dense, **{"density": args.density, **common,
                                                                          **extra})})
            for label, key, extra in variants]
    rows.append(cached("uccsd", uccsd_row))
    for r in rows:
        report.add(model=r["model"], gates=r["gates"], params=r["params"], swapped=r.get("swapped"),
                   energy=r["energy"], error=r["energy"] - h.exact_energy)
    report.notes.append("energies exact (statevector, no noise), Hartree-Fock state prepared first; gates: the "
                        "ansatz's (UCCSD: its Pauli-rotation circuit); error: energy - exact, in Ha")
    report.notes.append(f"results per model in {out} (a finished model is reused with --resume)")
    report.config["rows_full"] = [{k: v for k, v in r.items() if k != "history"} for r in rows]
    return report


def _scorer(data, device, seed: int):
    from noise.scorers import density_scorer

    return density_scorer(data, encoder=data.encoder, n_classes=data.n_classes, n_valid=1, seed=seed,
                          device=device.name)


def _variant(args, data, device, scorer, dense, label: str, key: str, mask_seed, out: Path,
             x_test, y_test) -> dict:
    """Train one model (or read its finished result); evaluate it noise-free and on the device."""
    from noise.program import noisy_program
    from qml.nas.sparse import SparseQNN, steps_per_epoch

    run_dir = out / data.name / key
    done = run_dir / "result.json"
    if done.exists():
        return json.loads(done.read_text())
    qnn = QNN(data.n_wires, get_encoder(data.encoder, data.n_wires), dense, n_classes=data.n_classes,
              seed=args.seed)
    total = args.epochs * steps_per_epoch(len(data.y_train), args.batch_size)
    probe = SparseQNN(qnn, args.density)
    if key == "sea":
        model = SparseQNN(qnn, args.density, args.every, swap_frac=args.swap_frac, total_steps=total,
                          stop=args.stop, ema=args.ema, seed=mask_seed)
    elif key == "human":
        model = SparseQNN(qnn, args.density, mask=[1] * probe.budget + [0] * (probe.n_gates - probe.budget))
    elif key == "dense":
        model = SparseQNN(qnn, 1.0)
    else:
        model = SparseQNN(qnn, args.density, seed=mask_seed)
    identity = {"variant": key, "space": args.space, "blocks": args.blocks, "density": model.density,
                "every": args.every, "swap_frac": args.swap_frac if key == "sea" else 0.0,
                "stop": args.stop, "ema": args.ema}
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    trainer = Trainer(model, data, config, run_dir, identity=identity, progress=not args.no_progress)
    model.attach(trainer.optimizer)
    trainer.fit(resume=(run_dir / LAST).exists())
    ansatz = model.ansatz()
    circuit = get_encoder(data.encoder, data.n_wires).circuit(data.n_wires) + ansatz
    params = model.param_dict()
    mapping = tuple(range(data.n_wires))
    features = qnn.encoder.features(x_test)
    program = noisy_program(circuit.bind(params), device, mapping, args.seed)
    result = {"model": label, "task": data.name, "device": device.name, "gates": len(ansatz.gates),
              "params": len(ansatz.parameters), "depth": program.depth,
              "device_gates": sum(program.count_ops.values()),
              "swapped": int(model.swaps) if key == "sea" else None,
              "noise_free_acc": evaluate(model, x_test, y_test)[1],
              "device_acc": scorer.evaluate(circuit, params, mapping, features, y_test)[1],
              "mapping": list(mapping), "mask": model.epoch_metrics()["mask"], "train_s": trainer.wall_s,
              "circuit": ansatz.to_json(), "history": trainer.history}
    atomic_write_text(done, json.dumps(result, indent=2) + "\n")
    return result


def _read_nas(run_dir: Path) -> list[dict]:
    """QuantumNAS rows (searched, pruned) of a ``qml-bench nas`` run.json, as table rows."""
    path = run_dir / "run.json"
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"--nas-run: cannot read {path}: {err}") from None
    found = []
    entries = [("QuantumNAS search", (record.get("trained") or {}).get("search")),
               ("QuantumNAS search + pruning", record.get("pruned"))]
    for label, entry in entries:
        if not isinstance(entry, dict) or entry.get("device_acc") is None:
            continue
        found.append({"model": label, "gates": _ansatz_gates(entry), "params": entry.get("params"),
                      "depth": entry.get("depth"), "device_gates": entry.get("gates"),
                      "noise_free_acc": entry.get("test_acc"), "device_acc": entry["device_acc"]})
    if not found:
        raise ValueError(f"--nas-run: {path} holds no QuantumNAS circuit with a device accuracy "
                         f"(run qml-bench nas with --device, and let it finish)")
    return found


def _ansatz_gates(entry: dict):
    """Gates of the recorded ansatz (its circuit JSON; the record's ``gates`` count the transpiled circuit)."""
    from qml.circuit import Circuit

    text = entry.get("circuit")
    if isinstance(text, str):
        try:
            return len(Circuit.from_json(text).gates)
        except Exception:   # noqa: BLE001 - a record of another version: fall back to its count
            pass
    return None


def _plot(records: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax_mask) = plt.subplots(1, 2, figsize=(11, 4))
    for r in records:
        ax.plot([h["epoch"] for h in r["history"]], [h["valid_acc"] for h in r["history"]],
                marker="." if r["model"] == "QuantumSEA" else None, label=r["model"])
    ax.set(xlabel="epoch", ylabel="validation accuracy (noise-free)", title="training")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    sea = next(r for r in records if r["model"] == "QuantumSEA")
    masks = [[int(c) for c in h["mask"]] for h in sea["history"]]
    ax_mask.imshow(list(zip(*masks)), aspect="auto", cmap="Greys", interpolation="nearest",
                   extent=(0.5, len(masks) + 0.5, len(masks[0]) - 0.5, -0.5))
    ax_mask.set(xlabel="epoch", ylabel="gate of the design space",
                title=f"QuantumSEA's active gates (black), {sea['swapped']} swapped")
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
