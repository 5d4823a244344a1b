"""``qml-bench onchip``: QOC, a QNN trained on the device by parameter shift, with and without gradient pruning.

Three models of the same QNN (same seed, training subset, schedule) are compared: trained
noise-free in our simulator; trained on the device (every forward value and every
parameter-shift gradient from shots on the device's Aer noise model, :mod:`noise.onchip`);
and, with ``--prune r``, trained on the device with probabilistic gradient pruning. Each is
evaluated on the device (Aer, ``--eval-shots`` shots per image, on the first ``--test-samples``
test images) and noise-free. Example:

    qml-bench onchip --task mnist2 --device santiago --prune 0.5 --out results/onchip

Every model trains in ``--out/<task>/<device>/<variant>`` (checkpoints; a killed run continues
with ``--resume``; a finished model's ``result.json`` is reused). ``onchip.png`` shows the
validation accuracy on the device against the circuits run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import torch

from benchmarks.report import Report, atomic_write_text
from qml.data import TASKS, load_task
from qml.files import save_figure
from qml.layers import SPACES, build_space, get_encoder
from qml.model import QNN
from qml.train import LAST, TrainConfig, Trainer, evaluate

COLUMNS = ["variant", "device_acc", "noise_free_acc", "circuits", "shots", "circuits_ratio", "train_s"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", default="mnist2", help=f"task (default mnist2); of {', '.join(TASKS)}")
    parser.add_argument("--device", default="santiago", help="device name (default santiago)")
    parser.add_argument("--space", default="u3cu3", help=f"design space (default u3cu3); of {', '.join(SPACES)}")
    parser.add_argument("--blocks", type=int, default=1)
    parser.add_argument("--train-samples", type=int, default=160,
                        help="the first N training images (default 160: on-chip steps cost circuits)")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--shots", type=int, default=1024, help="shots per circuit in training (default 1024)")
    parser.add_argument("--prune", type=float, help="also train with gradient pruning at this ratio r in [0, 1)")
    parser.add_argument("--accumulate", type=int, default=1, help="accumulation window w_a in steps (default 1)")
    parser.add_argument("--prune-window", type=int, default=5, help="pruning window w_p in steps (default 5)")
    parser.add_argument("--test-samples", type=int, default=400, help="test images evaluated (default 400)")
    parser.add_argument("--eval-shots", type=int, default=8192, help="shots per image in evaluation")
    parser.add_argument("--data-dir", help="data directory (default $QML_DATA_DIR, then ../shared/data)")
    parser.add_argument("--resume", action="store_true", help="continue a killed run in --out")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> Report:
    from noise.devices import Device
    from noise.onchip import GradientPruner

    torch.set_num_threads(args.threads)
    if args.task not in TASKS:
        raise ValueError(f"unknown task {args.task!r}; tasks: {', '.join(TASKS)}")
    if args.space not in SPACES:
        raise ValueError(f"unknown design space {args.space!r}; valid spaces: {', '.join(SPACES)}")
    for name in ("train_samples", "test_samples", "shots", "eval_shots", "epochs", "batch_size", "blocks"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(args, name)}")
    if args.prune is not None:   # the pruner's own checks, before any training
        GradientPruner(1, args.prune, args.accumulate, args.prune_window)
    device = Device.from_name(args.device)
    out = Path(args.out or "results/onchip")
    if not args.resume and out.exists() and any(out.rglob(LAST)):
        raise ValueError(f"--out {out} already holds runs: add --resume to continue them, or name another --out")
    data = load_task(args.task, args.data_dir)
    full = len(data.y_train)
    data = dataclasses.replace(data, x_train=data.x_train[:args.train_samples],
                               y_train=data.y_train[:args.train_samples])
    x_test, y_test = data.x_test[:args.test_samples], data.y_test[:args.test_samples]
    settings = {k: v for k, v in vars(args).items() if k not in ("json", "out", "markdown", "module_name")}
    report = Report(f"QOC on {device.name}: {args.task}, {args.space} x{args.blocks}, {len(data.y_train)} of "
                    f"{full} training images, {args.epochs} epochs, {args.shots} shots per circuit; test "
                    f"accuracy on {len(y_test)} test images (device: Aer, {args.eval_shots} shots)", COLUMNS,
                    config={**settings, "out": str(out)})
    variants = ["noise-free", "on-chip"] + ([f"on-chip pruned r={args.prune:g}"] if args.prune is not None else [])
    records = [_variant(args, data, device, v, out, x_test, y_test) for v in variants]
    base = next((r["circuits"] for r in records if r["variant"] == "on-chip"), None)
    for r in records:
        ratio = r["circuits"] / base if base and r["circuits"] else None
        report.add(variant=r["variant"], device_acc=r["device_acc"], noise_free_acc=r["noise_free_acc"],
                   circuits=r["circuits"], shots=r["shots"], circuits_ratio=ratio, train_s=r["train_s"])
    report.notes.append("circuits/shots: spent in training (one circuit per sample and shift term, plus the "
                        "unshifted one); circuits_ratio: against unpruned on-chip training")
    if args.prune is not None:
        report.notes.append(f"pruning: r={args.prune:g}, accumulation window {args.accumulate} step(s), pruning "
                            f"window {args.prune_window} step(s)")
    report.notes.append(f"runs, checkpoints and result.json per variant in {out / args.task / device.name}")
    report.config["variants"] = records
    report.output(out / "onchip.png", lambda: _plot(records, out / "onchip.png"))
    return report


def _variant(args, data, device, variant: str, out: Path, x_test, y_test) -> dict:
    """Train one model (or read its finished result) and evaluate it on the device and noise-free."""
    from noise.onchip import GradientPruner, OnChipQNN

    run_dir = out / data.name / device.name / variant.replace(" ", "-").replace("=", "")
    done = run_dir / "result.json"
    if done.exists():
        return json.loads(done.read_text())
    qnn = QNN(data.n_wires, get_encoder(data.encoder, data.n_wires), build_space(args.space, data.n_wires, args.blocks),
              n_classes=data.n_classes, seed=args.seed)
    on_device = OnChipQNN(qnn, device, shots=args.eval_shots, seed=args.seed, threads=args.threads).eval()
    model = qnn
    identity = {"variant": variant, "space": args.space, "blocks": args.blocks,
                "train_samples": len(data.y_train)}
    if variant != "noise-free":
        pruner = None
        if "pruned" in variant:
            pruner = GradientPruner(len(qnn.names), args.prune, args.accumulate, args.prune_window, seed=args.seed)
            identity.update(prune=args.prune, accumulate=args.accumulate, prune_window=args.prune_window)
        model = OnChipQNN(qnn, device, shots=args.shots, pruner=pruner, seed=args.seed, threads=args.threads,
                          mapping=on_device.mapping)
        identity.update(device=device.name, shots=args.shots)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    trainer = Trainer(model, data, config, run_dir, identity=identity, progress=not args.no_progress)
    if isinstance(model, OnChipQNN):
        model.attach(trainer.optimizer)
    trainer.fit(resume=(run_dir / LAST).exists())
    circuits = trainer.history[-1].get("total_circuits", 0) if trainer.history else 0
    result = {"task": data.name, "device": device.name, "variant": variant,
              "device_acc": evaluate(on_device, x_test, y_test)[1],
              "noise_free_acc": evaluate(qnn, x_test, y_test)[1],
              "circuits": circuits, "shots": circuits * args.shots, "train_s": trainer.wall_s,
              "mapping": list(on_device.mapping), "history": trainer.history}
    atomic_write_text(done, json.dumps(result, indent=2) + "\n")
    return result


def _plot(records: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for r in records:
        history = r["history"]
        if r["variant"] == "noise-free":
            ax.axhline(r["device_acc"], color="gray", ls="--", label="noise-free training (test, on device)")
            continue
        ax.plot([h.get("total_circuits", 0) for h in history], [h["valid_acc"] for h in history], marker=".",
                label=f"{r['variant']} (validation, on device)")
    ax.set(xlabel="circuits run in training", ylabel="accuracy", ylim=(0, 1), title="QOC: training on the device")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
