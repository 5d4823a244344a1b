"""``qml-bench quest``: QuEst, predicting a circuit's fidelity on a device before running it.

Sub-subcommands:

- ``gen``: generate a data set (random or algorithm circuits on scaled devices, labelled with
  their PST on Aer), in parallel, resumable (``--resume``).
- ``label``: the PST of QASM circuits on a device, by Aer (the ground truth).
- ``train``: train the graph transformer and the MLP baseline on data sets.
- ``eval``: RMSE and R^2 per split and circuit kind, speed against Aer, a scatter plot.
- ``predict``: the predicted PST of QASM circuits on a device, with the shipped model or
  ``--model FILE``.

Examples::

    qml-bench quest label circuit.qasm --device jakarta --shots 4096
    qml-bench quest predict circuit.qasm --device jakarta --properties today.json
    qml-bench quest gen --device jakarta --kind random --n 2000 --data runs/quest/jakarta.jsonl
    qml-bench quest train --data runs/quest/random.jsonl runs/quest/algorithm.jsonl --out runs/quest
    qml-bench quest eval --data runs/quest/random.jsonl --model runs/quest/quest_gt.pt --out runs/quest
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from benchmarks.report import Report

SUBCOMMANDS = {
    "gen": "generate a data set of circuits labelled with their PST on scaled devices",
    "label": "PST of QASM circuits on a device's Aer noise model (circuit + inverse, all-zero outcomes)",
    "train": "train the graph transformer and the MLP baseline",
    "eval": "RMSE and R^2 per split and kind, speed-up over Aer, predicted-vs-simulated scatter",
    "predict": "predicted PST of QASM circuits on a device (the shipped model or --model)",
}
DEFAULT_OUT = "runs/quest"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="quest_command", required=True, metavar="QUEST_COMMAND")
    parsers = {}
    for name, help_text in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        # the common options are also accepted after the sub-subcommand
        p.add_argument("--json", metavar="PATH", default=argparse.SUPPRESS, help="write the results record to PATH")
        p.add_argument("--out", metavar="DIR", default=argparse.SUPPRESS, help="directory for data, models and plots")
        p.add_argument("--seed", type=int, default=argparse.SUPPRESS, help="random seed (default 0)")
        p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
        parsers[name] = p
    for name in ("label", "predict"):
        p = parsers[name]
        p.add_argument("circuits", nargs="+", metavar="CIRCUIT.qasm", help="OpenQASM 2 files")
        p.add_argument("--device", default="jakarta", help="device name (default jakarta)")
        p.add_argument("--properties", metavar="CAL.json",
                       help="calibration of the day (DESIGN.md format) replacing the device's own")
    parsers["label"].add_argument("--shots", type=int, default=2048, help="shots (default 2048)")
    parsers["predict"].add_argument("--model", metavar="FILE", help="model file (default: the shipped model)")
    p = parsers["gen"]
    p.add_argument("--device", default="jakarta,santiago,lima,quito,manila",
                   help="comma-separated devices (default jakarta,santiago,lima,quito,manila)")
    p.add_argument("--kind", default="random", choices=("random", "algorithm", "qasm", "mixed"),
                   help="random circuits, algorithm circuits, the --qasm files, or half random half algorithm")
    p.add_argument("--n", type=int, default=2000, help="circuits (default 2000)")
    p.add_argument("--qasm", nargs="+", default=[], metavar="FILE", help="QASM files (--kind qasm)")
    p.add_argument("--shots", type=int, default=2048, help="shots per label (default 2048)")
    p.add_argument("--batch-size", type=int, default=16, help="circuits per Aer job (default 16)")
    p.add_argument("--max-gates", type=int, default=500, help="most gates of a random circuit (default 500)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count)")
    p.add_argument("--executor", default="process",
                   help="process (default), serial, dask-local or dask://host:port")
    p.add_argument("--data", metavar="PATH", help="data set file (default OUT/quest_KIND.jsonl)")
    p.add_argument("--resume", action="store_true", help="complete an existing data set file")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    for name in ("train", "eval"):
        p = parsers[name]
        p.add_argument("--data", nargs="+", required=True, metavar="PATH", help="data set files")
        p.add_argument("--holdout-device", metavar="NAME", help="test split: every circuit on this device")
        p.add_argument("--holdout-family", metavar="NAME", help="test split: every circuit of this algorithm family")
        p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p = parsers["train"]
    p.add_argument("--arch", default="gt,mlp", help="comma-separated: gt (graph transformer), mlp (baseline)")
    p.add_argument("--epochs", type=int, default=60, help="most epochs (default 60)")
    p.add_argument("--patience", type=int, default=12, help="early-stopping patience in epochs (default 12)")
    p.add_argument("--batch-size", type=int, default=64, help="graphs per step (default 64)")
    p.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate (default 2e-3)")
    p.add_argument("--hidden", type=int, default=16, help="width (default 16: fast inference)")
    p.add_argument("--layers", type=int, default=1, help="TransformerConv layers (default 1: the shipped model)")
    p.add_argument("--heads", type=int, default=2, help="attention heads (default 2)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/quest_ARCH/last.pt")
    p.add_argument("--tag", default="", help="suffix of the model file names (quest_ARCH{TAG}.pt)")
    p = parsers["eval"]
    p.add_argument("--model", nargs="+", metavar="FILE", help="model files (default: the shipped model)")
    p.add_argument("--speed-n", type=int, default=64, help="circuits per width in the speed test (0: none)")
    p.add_argument("--speed-widths", default="5,7", help="widths of the speed test (default 5,7, on jakarta)")
    p.add_argument("--shots", type=int, default=2048, help="shots of the Aer side of the speed test")
    p.add_argument("--speed-repeats", type=int, default=3, help="timed runs of each side, the best kept (default 3)")


def run(args: argparse.Namespace) -> Report:
    import torch

    if args.threads < 1:
        raise ValueError(f"--threads must be positive, got {args.threads}")
    torch.set_num_threads(args.threads)
    return {"gen": _gen, "label": _label, "train": _train, "eval": _eval, "predict": _predict}[args.quest_command](args)


# ---------------------------------------------------------------------- inputs


def _out(args) -> Path:
    return Path(getattr(args, "out", None) or DEFAULT_OUT)


def _seed(args) -> int:
    return int(getattr(args, "seed", 0) or 0)


def read_qasm(path: str):
    """The Circuit in QASM file ``path``; a ValueError names the file and the problem."""
    from qml.circuit import Circuit

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"QASM file {path} does not exist")
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read QASM file {path}: {err}") from None
    try:
        return Circuit.from_qasm(text)
    except ValueError as err:  # an instruction without definition or matrix: nothing to transpile
        raise ValueError(f"{path}: {err}, so it cannot be transpiled to the basis rz, sx, x, cx") from None
    except Exception as err:  # qiskit's QASM2ParseError and friends
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{path} is not readable OpenQASM 2: {first}") from None


def device_of(name: str, properties: str | None):
    """The device ``name``, with the calibration file ``properties`` when given."""
    import json

    from noise.devices import Device

    if properties is None:
        return Device.from_name(name)
    if not Path(properties).is_file():
        raise ValueError(f"properties file {properties} does not exist")
    try:
        props = json.loads(Path(properties).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"properties file {properties} is not JSON: {err}") from None
    try:
        return Device.from_name(name, properties=props)
    except ValueError as err:
        raise ValueError(f"properties file {properties}: {err}") from None


def _physical(args):
    """(name, physical circuit) per QASM file, and the device."""
    from noise.fidelity.label import compile_for

    device = device_of(args.device, args.properties)
    out = []
    for path in args.circuits:
        circuit = read_qasm(path)
        try:
            out.append((path, compile_for(circuit, device, seed=_seed(args))))
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
    return out, device


# ---------------------------------------------------------------------- label / predict


def _label(args) -> Report:
    from noise.fidelity.label import pst, shot_noise, used_qubits

    if args.shots < 1:
        raise ValueError(f"--shots must be positive, got {args.shots}")
    circuits, device = _physical(args)
    start = time.perf_counter()
    values = pst([c for _, c in circuits], device, shots=args.shots, seed=_seed(args))
    wall = time.perf_counter() - start
    report = Report(title=f"qml-bench quest label: PST on {device.name}'s Aer noise model (circuit + inverse)",
                    columns=["circuit", "device", "qubits", "gates", "depth", "pst", "shot_noise", "shots"],
                    config={"device": args.device, "properties": args.properties, "shots": args.shots,
                            "circuits": list(args.circuits)})
    for (path, c), p in zip(circuits, values):
        report.add(circuit=path, device=device.name, qubits=",".join(map(str, used_qubits(c))), gates=len(c.gates),
                   depth=c.depth(), pst=float(p), shot_noise=float(shot_noise(p, args.shots)), shots=args.shots)
    report.notes.append(f"PST: fraction of all-zero outcomes of circuit + inverse on the used qubits; shot_noise "
                        f"= sqrt(p(1-p)/shots); Aer {wall:.2f} s for {len(values)} circuit(s)")
    return report


def _predict(args) -> Report:
    from noise.fidelity.label import used_qubits
    from noise.fidelity.model import SHIPPED, load_model, predict_circuits

    model, meta = load_model(args.model)  # a bad model file fails before any circuit work
    circuits, device = _physical(args)
    start = time.perf_counter()
    values = predict_circuits(model, [c for _, c in circuits], device)
    wall = time.perf_counter() - start
    report = Report(title=f"qml-bench quest predict: predicted PST on {device.name}",
                    columns=["circuit", "device", "qubits", "gates", "depth", "predicted_pst"],
                    config={"device": args.device, "properties": args.properties,
                            "model": str(args.model or SHIPPED), "circuits": list(args.circuits)})
    for (path, c), p in zip(circuits, values):
        report.add(circuit=path, device=device.name, qubits=",".join(map(str, used_qubits(c))), gates=len(c.gates),
                   depth=c.depth(), predicted_pst=float(p))
    report.notes.append(f"model {args.model or SHIPPED} ({meta.get('arch', model.arch)}, trained on "
                        f"{meta.get('trained_on', '?')}); graphs and inference {wall * 1e3:.1f} ms")
    return report


# ---------------------------------------------------------------------- gen


def _gen(args) -> Report:
    from noise.fidelity.dataset import generate, load

    devices = [d.strip() for d in args.device.split(",") if d.strip()]
    if not devices:
        raise ValueError("--device needs at least one device name")
    path = Path(args.data or _out(args) / f"quest_{args.kind}.jsonl")
    if path.exists() and not args.resume:
        raise ValueError(f"data set {path} exists; pass --resume to complete it, or choose another --data")
    if args.resume and not path.exists():
        raise ValueError(f"nothing to resume: {path} does not exist")
    qasm = []
    for f in args.qasm:
        read_qasm(f)  # unreadable files fail here, before any work
        qasm.append((Path(f).name, Path(f).read_text()))
    stats = generate(path, devices=devices, kind=args.kind, n=args.n, seed=_seed(args), shots=args.shots,
                     batch_size=args.batch_size, max_gates=args.max_gates, qasm=qasm, executor=args.executor,
                     workers=args.workers, progress=not args.no_progress)
    data = load(path)
    report = Report(title=f"qml-bench quest gen: {path}",
                    columns=["device", "kind", "circuits", "pst_mean", "pst_min", "pst_max", "shot_noise_mean",
                             "gates_mean", "aer_ms_per_circuit"],
                    config={**data.header["config"], "path": str(path), **stats})
    groups: dict[tuple, list] = {}
    for r in data.records:
        groups.setdefault((r["device"], r["kind"]), []).append(r)
    for (device, kind), rs in sorted(groups.items()):
        p = np.array([r["pst"] for r in rs])
        report.add(device=device, kind=kind, circuits=len(rs), pst_mean=float(p.mean()), pst_min=float(p.min()),
                   pst_max=float(p.max()), shot_noise_mean=float(np.mean([r["pst_se"] for r in rs])),
                   gates_mean=float(np.mean([r["gates"] for r in rs])),
                   aer_ms_per_circuit=float(np.mean([r["aer_s"] for r in rs]) * 1e3))
    report.notes.append(f"{stats['labelled']} circuits labelled in {stats['batches']} Aer jobs this run, "
                        f"{stats['done_before']} already in the file")
    return report


# ---------------------------------------------------------------------- train / eval


def _datasets(paths):
    from noise.fidelity.dataset import load

    return [load(p) for p in paths]


def _split_graphs(args, datasets):
    """{split: [graphs]}, with the record of each graph kept beside it."""
    from noise.fidelity.train import SPLITS, check_holdout, graphs_of, split

    out = {s: [] for s in SPLITS}
    records = {s: [] for s in SPLITS}
    check_holdout([r for ds in datasets for r in ds.records], args.holdout_device, args.holdout_family)
    for ds in datasets:
        for name, recs in split(ds.records, args.holdout_device, args.holdout_family, seed=0, check=False).items():
            out[name] += graphs_of(ds, recs, progress=False)
            records[name] += recs
    return out, records


def _train(args) -> Report:
    from noise.fidelity.model import build_model, predict, save_model
    from noise.fidelity.train import FidelityTrainer, FitConfig, metrics

    archs = [a.strip() for a in args.arch.split(",") if a.strip()]
    for a in archs:
        if a not in ("gt", "mlp"):
            raise ValueError(f"unknown --arch {a!r}; choose gt and/or mlp")
    config = FitConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, patience=args.patience,
                       seed=_seed(args))
    out = _out(args)
    if args.resume:  # checked before any work
        missing = [a for a in archs if not (out / f"quest_{a}{args.tag}" / "last.pt").exists()]
        if missing:
            raise ValueError(f"nothing to resume for {missing}: no "
                             f"{' or '.join(str(out / f'quest_{a}{args.tag}' / 'last.pt') for a in missing)}")
    datasets = _datasets(args.data)
    graphs, records = _split_graphs(args, datasets)
    report = Report(title="qml-bench quest train: PST regression (RMSE, R^2 per split and kind)",
                    columns=["model", "split", "kind", "n", "rmse", "mae", "r2", "best_epoch", "train_s"],
                    config={"data": list(args.data), "holdout_device": args.holdout_device,
                            "holdout_family": args.holdout_family, **vars(config), "hidden": args.hidden,
                            "layers": args.layers, "heads": args.heads})
    for arch in archs:
        hp = ({"hidden": args.hidden, "layers": args.layers, "heads": args.heads} if arch == "gt"
              else {"hidden": 64, "layers": 3})
        model = build_model(arch, **hp)
        identity = {"data": [str(Path(p).resolve()) for p in args.data], "holdout_device": args.holdout_device,
                    "holdout_family": args.holdout_family}
        trainer = FidelityTrainer(model, graphs["train"], graphs["valid"], config, out_dir=out / f"quest_{arch}{args.tag}",
                                  identity=identity, progress=not args.no_progress)
        result = trainer.fit(resume=args.resume)
        scores = {}
        for name in ("train", "valid", "test"):
            pred = predict(model, graphs[name])
            true = np.array([g.y.item() for g in graphs[name]])
            kinds = np.array([r["kind"] for r in records[name]])
            for kind in ["all", *sorted(set(kinds))]:
                mask = np.ones(len(true), bool) if kind == "all" else kinds == kind
                m = metrics(pred[mask], true[mask])
                scores[f"{name}/{kind}"] = m
                report.add(model=arch, split=name, kind=kind, n=m["n"], rmse=m["rmse"], mae=m["mae"], r2=m["r2"],
                           best_epoch=result["best_epoch"], train_s=result["wall_s"])
        path = out / f"quest_{arch}{args.tag}.pt"
        devices = sorted({d for ds in datasets for d in ds.header["devices"]})
        meta = {"arch": arch, "trained_on": f"{sum(len(g) for g in graphs.values())} circuits on {','.join(devices)}",
                "data": [str(p) for p in args.data], "holdout_device": args.holdout_device,
                "holdout_family": args.holdout_family, "metrics": scores, "best_epoch": result["best_epoch"],
                "epochs": result["epochs"], "config": vars(config)}
        report.output(path, lambda model=model, path=path, meta=meta: save_model(model, path, meta))
    return report


def _speed_circuits(widths, n, seed):
    from noise.devices import Device
    from noise.fidelity.circuits import random_circuit

    device = Device.from_name("jakarta")
    out = {}
    for w in widths:
        if not 1 <= w <= device.n_qubits:
            raise ValueError(f"--speed-widths: {w} is not a width on jakarta (1..{device.n_qubits})")
        rng = np.random.default_rng([seed, w])
        out[w] = [random_circuit(device, w, int(rng.integers(10, 501)), seed=rng) for _ in range(n)]
    return device, out


def speed(models: dict, widths, n, shots, seed, threads: int = 1, repeats: int = 3) -> list[dict]:
    """Per width and model (``{label: model}``): milliseconds per circuit of batched Aer and of
    QuEst on the same random circuits of jakarta, each the best of ``repeats`` runs, wall-clock
    and CPU time (the process's, all threads), Aer on ``threads`` threads like torch.

    Both start from the same physical Circuits. Aer: the mirrored circuits made and run as one
    job (``label.pst``; the noise model built beforehand, untimed), once per width. QuEst end
    to end: the graphs built together and read by the model (``model.predict_circuits``); its
    two parts are also timed alone (``graph_ms``, ``model_ms``)."""
    from noise.fidelity.graph import graph_batch
    from noise.fidelity.label import pst
    from noise.fidelity.model import predict, predict_circuits
    from qiskit_aer import AerSimulator

    device, circuits = _speed_circuits(widths, n, seed)
    simulator = AerSimulator(noise_model=device.noise_model, max_parallel_threads=threads)  # built untimed
    rows = []
    for w, cs in circuits.items():
        pst(cs[:2], device, shots=shots, seed=seed, simulator=simulator)  # warm-up
        aer, aer_cpu = _best(lambda: pst(cs, device, shots=shots, seed=seed, simulator=simulator), repeats)
        build, _ = _best(lambda: graph_batch(cs, device), repeats)
        batch = graph_batch(cs, device)
        gates = float(np.mean([len(c.gates) for c in cs]))
        for label, model in models.items():
            predict_circuits(model, cs[:2], device)  # warm-up
            quest, quest_cpu = _best(lambda: predict_circuits(model, cs, device), repeats)
            infer, _ = _best(lambda: predict(model, batch), repeats)
            k = 1e3 / len(cs)
            rows.append({"model": label, "width": w, "n": len(cs), "gates_mean": gates,
                         "aer_ms": aer * k, "quest_ms": quest * k, "speedup": aer / quest,
                         "aer_cpu_ms": aer_cpu * k, "quest_cpu_ms": quest_cpu * k, "speedup_cpu": aer_cpu / quest_cpu,
                         "graph_ms": build * k, "model_ms": infer * k, "speedup_model_only": aer / infer})
    return rows


def _best(fn, repeats: int) -> tuple[float, float]:
    """The least wall-clock and the least CPU seconds of ``repeats`` calls of ``fn``."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _eval(args) -> Report:
    from noise.fidelity.model import SHIPPED, load_model, predict
    from noise.fidelity.train import metrics

    if args.speed_repeats < 1:
        raise ValueError(f"--speed-repeats must be positive, got {args.speed_repeats}")
    paths = args.model or [None]
    models = [(str(p or SHIPPED), *load_model(p)) for p in paths]  # bad model files fail first
    datasets = _datasets(args.data)
    graphs, records = _split_graphs(args, datasets)
    report = Report(title="qml-bench quest eval: predicted against simulated PST",
                    columns=["model", "split", "kind", "n", "rmse", "mae", "r2", "width", "gates_mean", "aer_ms",
                             "quest_ms", "speedup", "aer_cpu_ms", "quest_cpu_ms", "speedup_cpu", "graph_ms",
                             "model_ms", "speedup_model_only"],
                    config={"data": list(args.data), "models": [m[0] for m in models],
                            "holdout_device": args.holdout_device, "holdout_family": args.holdout_family,
                            "speed_n": args.speed_n, "speed_widths": args.speed_widths, "shots": args.shots,
                            "speed_repeats": args.speed_repeats,
                            "threads": args.threads})
    scatter = {}
    for path, model, meta in models:
        label = f"{Path(path).stem}"
        for name in ("train", "valid", "test"):
            if not graphs[name]:
                continue
            pred = predict(model, graphs[name])
            true = np.array([g.y.item() for g in graphs[name]])
            kinds = np.array([r["kind"] for r in records[name]])
            groups = ["all", *sorted(set(kinds))]
            if name == "test":  # and per algorithm family
                families = np.array([f"{r['kind']}/{r['family']}" for r in records[name]])
                groups += sorted({f for f, k in zip(families, kinds) if k != "random"})
            for kind in groups:
                mask = (np.ones(len(true), bool) if kind == "all" else
                        families == kind if "/" in kind else kinds == kind)
                m = metrics(pred[mask], true[mask])
                report.add(model=label, split=name, kind=kind, n=m["n"], rmse=m["rmse"], mae=m["mae"], r2=m["r2"])
            if name == "test":
                scatter[label] = (true, pred, kinds)
    if args.speed_n > 0:
        widths = [int(w) for w in str(args.speed_widths).split(",") if w.strip()]
        for row in speed({Path(path).stem: model for path, model, _ in models}, widths, args.speed_n, args.shots,
                         _seed(args), threads=args.threads, repeats=args.speed_repeats):
            report.add(split="speed", kind=f"random {row['width']}q", **row)
        report.notes.append(f"speed, ms per circuit, the best of {args.speed_repeats} runs each, {args.threads} "
                            "thread(s) for both (torch threads; Aer max_parallel_threads): aer_ms = batched Aer "
                            f"(circuit + inverse made and run as one job, {args.shots} shots, noise model built "
                            "beforehand); quest_ms = QuEst end to end from the same physical circuits (graphs built "
                            "together + batched inference); speedup = aer_ms / quest_ms; *_cpu_ms: the same runs' "
                            "CPU time (robust to other load on the machine); graph_ms and model_ms: the two parts "
                            "of quest_ms timed alone, speedup_model_only = aer_ms / model_ms")
    if getattr(args, "out", None) and scatter:
        path = Path(args.out) / "quest_scatter.png"
        report.output(path, lambda: _scatter(scatter, path, args))
    return report


def _scatter(scatter, path, args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from qml.files import save_figure

    fig, axes = plt.subplots(1, len(scatter), figsize=(4.5 * len(scatter), 4.5), squeeze=False)
    for ax, (label, (true, pred, kinds)) in zip(axes[0], scatter.items()):
        for kind in sorted(set(kinds)):
            mask = kinds == kind
            ax.scatter(true[mask], pred[mask], s=6, alpha=0.6, label=kind)
        ax.plot([0, 1], [0, 1], "k--", lw=0.8)
        ax.set(xlabel="simulated PST (Aer)", ylabel="predicted PST", title=f"{label}: test split", xlim=(0, 1),
               ylim=(0, 1))
        ax.legend()
    held = args.holdout_device or args.holdout_family
    if held:
        fig.suptitle(f"test split: held-out {held}")
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
