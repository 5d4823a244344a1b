"""``qml-bench nat``: how much accuracy a QNN loses on a noisy device, and how much QuantumNAT wins back.

For each task and device, four models are trained (same seed, data, schedule): the
baseline; + post-measurement normalization; + normalization + noise injection; + all three
(quantization too). Each is evaluated noise-free and on the device (Aer with shots, or the
exact density-matrix mode) on the first ``--test-samples`` test images. Example:

    qml-bench nat --task mnist4 --device santiago
    qml-bench nat --tasks mnist4,mnist2 --devices yorktown,santiago,belem,quito,lima --out results/nat

Every variant trains in ``--out/<task>/<device or noise-free>/<variant>`` (checkpoints; a
killed sweep continues with ``--resume``); its accuracies are kept in ``result.json`` there, so
a resumed sweep redoes nothing finished. A bar chart ``nat.png`` goes to ``--out``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from benchmarks.report import Report, atomic_write_text
from qml.data import TASKS, load_task
from qml.layers import SPACES, build_space, get_encoder
from qml.model import QNN
from qml.files import save_figure
from qml.train import LAST, TrainConfig, Trainer

VARIANTS = {            # name -> NATModel settings (normalize, inject, quantize)
    "baseline": (False, False, False),
    "+norm": (True, False, False),
    "+norm+inject": (True, True, False),
    "+norm+inject+quant": (True, True, True),
}
COLUMNS = ["task", "device", "noise_free", *VARIANTS, "gain"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", "--tasks", dest="tasks", default="mnist4",
                        help=f"comma-separated tasks (default mnist4); of {', '.join(TASKS)}")
    parser.add_argument("--device", "--devices", dest="devices", default="santiago",
                        help="comma-separated device names (default santiago)")
    parser.add_argument("--space", default="u3cu3", help=f"design space (default u3cu3); of {', '.join(SPACES)}")
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--noise-scale", type=float, default=1.0,
                        help="multiply every error rate of the devices (harsher than the snapshots: e.g. 5)")
    parser.add_argument("--T", type=float, default=1.0, help="noise factor of the injection (default 1)")
    parser.add_argument("--levels", type=int, default=5, help="quantization levels (default 5)")
    parser.add_argument("--limit", type=float, default=1.0, help="quantization range [-limit, limit]")
    parser.add_argument("--penalty", type=float, default=0.1, help="quantization penalty weight")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--test-samples", type=int, default=300, help="test images evaluated (default 300)")
    parser.add_argument("--backend", choices=("aer", "density"), default="aer",
                        help="device evaluation: Aer with shots (default) or the exact density-matrix mode")
    parser.add_argument("--train-source", choices=("inject", "density"), default="inject",
                        help="noise-aware training by sampled injection (default) or exact density matrices")
    parser.add_argument("--shots", type=int, default=8192)
    parser.add_argument("--data-dir", help="data directory (default $QML_DATA_DIR, then ../shared/data)")
    parser.add_argument("--resume", action="store_true", help="continue a killed sweep in --out")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> Report:
    from noise.devices import Device

    torch.set_num_threads(args.threads)
    tasks = [t for t in args.tasks.split(",") if t]
    devices = [Device.from_name(d) for d in args.devices.split(",") if d]
    if args.noise_scale <= 0:
        raise ValueError(f"--noise-scale must be positive, got {args.noise_scale}")
    if args.noise_scale != 1:
        devices = [d.scaled(args.noise_scale) for d in devices]
    for name in tasks:
        if name not in TASKS:
            raise ValueError(f"unknown task {name!r}; tasks: {', '.join(TASKS)}")
    if args.space not in SPACES:
        raise ValueError(f"unknown design space {args.space!r}; valid spaces: {', '.join(SPACES)}")
    if args.T < 0:
        raise ValueError(f"--T must be >= 0, got {args.T}")
    if args.test_samples < 2:
        raise ValueError("--test-samples must be at least 2 (normalization uses the batch statistics)")
    out = Path(args.out or "results/nat")
    if not args.resume and out.exists() and any(out.rglob(LAST)):
        raise ValueError(f"--out {out} already holds runs: add --resume to continue them, or name another --out")
    settings = {k: v for k, v in vars(args).items() if k not in ("json", "out", "markdown", "module_name")}
    report = Report(f"QuantumNAT ablation: test accuracy on the first {args.test_samples} test images "
                    f"({args.backend}{f', {args.shots} shots' if args.backend == 'aer' else ''}), "
                    f"{args.space} x{args.blocks}, T={args.T}, {args.levels} levels", COLUMNS,
                    config={**settings, "out": str(out)})
    records = []
    for task in tasks:
        data = load_task(task, args.data_dir)
        x_test, y_test = data.x_test[:args.test_samples], data.y_test[:args.test_samples]
        if len(y_test) < args.test_samples:
            report.notes.append(f"{task} has {len(y_test)} test images: all are used")
        for device in devices:
            row = {"task": task, "device": device.name}
            for variant in VARIANTS:
                result = _variant(args, data, device, variant, out, x_test, y_test)
                records.append(result)
                row[variant] = result["device_acc"]
                if variant == "baseline":
                    row["noise_free"] = result["noise_free_acc"]
            row["gain"] = row["+norm+inject+quant"] - row["baseline"]
            report.add(**row)
            report.notes.append(_transpiled(args, data, device))
    gains = [r["gain"] for r in report.rows]
    report.notes.append(f"average gain of the full NAT over the baseline on the device: "
                        f"{100 * sum(gains) / len(gains):+.1f} points over {len(gains)} (task, device) pairs")
    report.notes.append(f"runs, checkpoints and result.json per variant in {out}")
    report.config["variants"] = records
    report.output(out / "nat.png", lambda: _plot(report, out / "nat.png"))
    return report


def _variant(args, data, device, variant: str, out: Path, x_test, y_test) -> dict:
    """Train one variant (or read its finished result) and evaluate it noise-free and on the device."""
    from noise.nat import NATModel

    normalize, inject, quant = VARIANTS[variant]
    slug = device.name.replace("*", "x")                       # a scaled device: santiago*5 -> santiagox5
    run_dir = out / data.name / (slug if inject else "noise-free") / variant
    done = run_dir / f"result-{slug}-{args.backend}.json"
    if done.exists():
        return json.loads(done.read_text())
    encoder = get_encoder(data.encoder, data.n_wires)
    qnn = QNN(data.n_wires, encoder, build_space(args.space, data.n_wires, args.blocks),
              n_classes=data.n_classes, seed=args.seed)
    model = NATModel(qnn, device, inject=inject, T=args.T, normalize=normalize,
                     levels=args.levels if quant else None, limit=args.limit, penalty=args.penalty,
                     source=args.train_source, seed=args.seed)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    identity = {"variant": variant, "space": args.space, "blocks": args.blocks, "T": args.T,
                "levels": args.levels if quant else None, "device": device.name if inject else None,
                "source": args.train_source if inject else None}
    trainer = Trainer(model, data, config, run_dir, identity=identity, progress=not args.no_progress)
    trainer.fit(resume=(run_dir / LAST).exists())
    options = {"shots": args.shots, "seed": args.seed} if args.backend == "aer" else {}
    result = {"task": data.name, "device": device.name, "variant": variant,
              "noise_free_acc": model.device_accuracy(x_test, y_test, backend="noise-free"),
              "device_acc": model.device_accuracy(x_test, y_test, backend=args.backend, **options),
              "train_s": trainer.wall_s}
    atomic_write_text(done, json.dumps(result, indent=2) + "\n")
    return result


def _transpiled(args, data, device) -> str:
    """The training circuit's size on the device: gate counts and depth after transpiling."""
    from noise.program import noisy_program

    qnn = QNN(data.n_wires, get_encoder(data.encoder, data.n_wires),
              build_space(args.space, data.n_wires, args.blocks), n_classes=data.n_classes)
    p = noisy_program(qnn.template, device)
    return (f"{data.name} on {device.name}: qubits {list(p.qubits)}, transpiled "
            f"{', '.join(f'{k} {v}' for k, v in sorted(p.count_ops.items()))}, depth {p.depth}")


def _plot(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report.rows
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(rows)), 4))
    width = 0.8 / (len(VARIANTS) + 1)
    for j, name in enumerate(["noise_free", *VARIANTS]):
        xs = [i + (j - len(VARIANTS) / 2) * width for i in range(len(rows))]
        ax.bar(xs, [r[name] for r in rows], width, label="noise-free (baseline)" if name == "noise_free" else name)
    ax.set_xticks(range(len(rows)), [f"{r['task']}\n{r['device']}" for r in rows])
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.15), frameon=False)
    ax.set_title("QuantumNAT: accuracy on the device")
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
