"""``qml-bench train``: train a QNN classifier and report train/validation/test accuracy and time.

Example:
    qml-bench train --task mnist4 --space u3cu3 --blocks 2 --epochs 50
    qml-bench train --task digits4 --epochs 5 --compare torchquantum

The run directory gets ``last.pt``/``best.pt`` checkpoints, ``run.json`` (config, versions,
seed, split, metrics per epoch, wall time of the whole run; rewritten atomically every epoch)
and ``curve.png``. Without ``--out`` every run gets a new directory,
``results/train/<task>-<space>-b<blocks>-s<seed>`` or, when that holds a run, the first free of
``...-2``, ``...-3``, ...; an ``--out`` that already holds a run is refused unless ``--resume``
continues it. ``--resume`` continues from ``last.pt`` (without ``--out``: the latest run
directory of these settings); more ``--epochs`` than the run had extend it; with no checkpoint
it is an error. With ``--compare torchquantum`` TorchQuantum's U3CU3 model trains on the same
data, encoder, optimizer, schedule, epochs, batch order and seed, in the same process.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from benchmarks.report import Report, atomic_write_text, versions
from qml.data import TASKS, default_task, load_task
from qml.layers import ENCODERS, SPACES, build_space, describe_encoders, get_encoder
from qml.model import QNN, READOUTS
from qml.train import LAST, TrainConfig, Trainer, plot_history

COLUMNS = ["model", "task", "space", "blocks", "params", "epochs", "train_acc", "valid_acc",
           "test_acc", "s_per_epoch", "train_s"]
PEERS = ("torchquantum",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", help=f"data set (default: mnist4 when the MNIST files are "
                        f"found, else digits4); one of {', '.join(TASKS)}")
    parser.add_argument("--space", default="u3cu3",
                        help=f"design space: {', '.join([*SPACES, 'random'])} (default u3cu3)")
    parser.add_argument("--blocks", type=int, default=2, help="blocks of the space (default 2)")
    parser.add_argument("--params", type=int, default=36,
                        help="trainable angles of the random space (default 36)")
    parser.add_argument("--encoder", help=f"default: the task's; one of {', '.join(ENCODERS)}")
    parser.add_argument("--readout", default="auto", choices=READOUTS)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--warmup", type=int, default=0, help="linear warm-up epochs")
    parser.add_argument("--gradient", default="autograd", choices=("autograd", "adjoint"))
    parser.add_argument("--data-dir", help="data directory (default $QML_DATA_DIR, then "
                        "../shared/data beside the repository)")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    parser.add_argument("--compare", choices=PEERS,
                        help="also train the peer's U3CU3 model under the same settings")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _holds_run(path: Path) -> bool:
    return (path / LAST).exists()


def _run_dir(args: argparse.Namespace, task: str) -> Path:
    """The run directory: ``--out``, else a new one per run (the latest one with ``--resume``)."""
    if args.out:
        out = Path(args.out)
        if args.resume and not _holds_run(out):
            raise ValueError(f"cannot resume: no checkpoint at {out / LAST}")
        if not args.resume and _holds_run(out):
            raise ValueError(f"--out {out} already holds a run ({LAST}): add --resume to continue it, "
                             f"or name another --out")
        return out
    base = Path("results") / "train" / f"{task}-{args.space}-b{args.blocks}-s{args.seed}"
    runs = [base] + [base.with_name(f"{base.name}-{i}") for i in range(2, 10_000)]
    if args.resume:
        done = [r for r in runs[:_first_free(runs) + 1] if _holds_run(r)]
        if not done:
            raise ValueError(f"cannot resume: no checkpoint at {base / LAST} (name the run with --out)")
        return done[-1]
    return runs[_first_free(runs)]


def _first_free(runs: list[Path]) -> int:
    return next(i for i, r in enumerate(runs) if not r.exists() or not any(r.iterdir()))


class _Run:
    """One model's training in ``out_dir``: its trainer, JSON record and learning curve."""

    def __init__(self, name: str, model, data, config, out_dir: Path, identity: dict, args,
                 record: dict):
        self.name, self.out_dir, self.identity, self.record = name, out_dir, identity, record
        self.n_params = sum(p.numel() for p in model.parameters())
        self.trainer = Trainer(model, data, config, out_dir, identity=identity,
                               progress=not args.no_progress, on_epoch=self.write_record)

    def write_record(self, history: list[dict]) -> None:
        self.record.update(history=history, wall_s=self.trainer.wall_s)  # all sessions of the run
        atomic_write_text(self.out_dir / "run.json",
                          json.dumps({**self.record, "versions": versions()}, indent=2) + "\n")

    def finish(self) -> dict:
        result = self.trainer.finish()
        self.record.update(result={k: v for k, v in result.items() if k != "history"})
        self.write_record(result["history"])
        i = self.identity
        plot_history(result["history"], self.out_dir / "curve.png",
                     title=f"{i['model']} {self.trainer.data.name} {i['space']} x{i['blocks']}")
        return result


def _train_together(runs: list[_Run], resume: bool) -> list[dict]:
    """Train the runs epoch by epoch in turn, so that a busy machine slows them alike."""
    for r in runs:
        r.trainer.start(resume)
    while not all(r.trainer.done for r in runs):
        for r in runs:
            if not r.trainer.done:
                r.trainer.run_epoch()
    return [r.finish() for r in runs]


def run(args: argparse.Namespace) -> Report:
    torch.set_num_threads(args.threads)
    task = args.task or default_task(args.data_dir)
    data = load_task(task, args.data_dir)
    if args.space not in [*SPACES, "random"]:
        raise ValueError(f"unknown design space {args.space!r}; valid spaces: "
                         f"{', '.join([*SPACES, 'random'])}")
    encoder = get_encoder(args.encoder or data.encoder, data.n_wires)
    if encoder.n_features != data.n_features:
        raise ValueError(f"encoder {encoder.name!r} takes {encoder.n_features} features but task "
                         f"{task!r} has {data.n_features}; encoders: {describe_encoders()}")
    n_wires = max(encoder.n_wires, data.n_wires)
    ansatz = build_space(args.space, n_wires, args.blocks, n_params=args.params, seed=args.seed)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                         weight_decay=args.weight_decay, warmup_epochs=args.warmup,
                         seed=args.seed)
    out_dir = _run_dir(args, task)
    identity = {"model": "qml", "space": args.space, "blocks": args.blocks,
                "encoder": encoder.name, "readout": args.readout, "gradient": args.gradient,
                "n_params": len(ansatz.parameters)}
    settings = {**identity, "task": task, "split": data.split, "sizes": data.sizes(),
                "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                "weight_decay": args.weight_decay, "warmup": args.warmup,
                "threads": args.threads, "out": str(out_dir)}
    report = Report(f"QNN training: {task}, {args.space} x{args.blocks} blocks, seed {args.seed}",
                    COLUMNS, config=settings)
    report.notes.append(f"data: {data.split}; sizes {data.sizes()}")

    model = QNN(n_wires, encoder, ansatz, args.readout, n_classes=data.n_classes,
                seed=args.seed, gradient=args.gradient)
    runs = [_Run("qml", model, data, config, out_dir, identity, args,
                 {"config": settings, "seed": args.seed})]
    if args.compare == "torchquantum":
        runs.append(_torchquantum_run(data, encoder.name, n_wires, config, out_dir, args))
    results = _train_together(runs, args.resume)
    for r, result in zip(runs, results):
        report.add(model=r.name, task=task, space=args.space, blocks=args.blocks,
                   params=r.n_params, epochs=result["epochs"], train_acc=result["train_acc"],
                   valid_acc=result["valid_acc"], test_acc=result["test_acc"],
                   s_per_epoch=result["s_per_epoch"],
                   train_s=sum(h["epoch_s"] for h in result["history"]))
    report.notes.append(f"checkpoints, run.json and curve.png in {out_dir}")
    if len(results) == 2:
        ours, peer = results
        ratio = {k: ours[k] / peer[k] for k in ("s_per_epoch", "min_s_per_epoch",
                                                "cpu_s_per_epoch")}
        report.notes.append(
            f"time per epoch, qml / torchquantum: wall {ratio['s_per_epoch']:.3f} (median), "
            f"{ratio['min_s_per_epoch']:.3f} (least), CPU {ratio['cpu_s_per_epoch']:.3f} "
            f"(median); test accuracy difference (qml - torchquantum): "
            f"{100 * (ours['test_acc'] - peer['test_acc']):+.1f} points")
    return report


def _torchquantum_run(data, encoder: str, n_wires: int, config: TrainConfig, out_dir: Path,
                      args) -> _Run:
    from benchmarks.torchquantum_peer import TQClassifier, import_torchquantum

    if args.space != "u3cu3":
        raise ValueError(f"--compare torchquantum trains TorchQuantum's U3CU3 model: use "
                         f"--space u3cu3, not {args.space!r}")
    try:
        tq = import_torchquantum()
    except ImportError as err:
        raise ValueError(f"--compare torchquantum: {err}") from err
    torch.manual_seed(args.seed)  # TorchQuantum draws its initial angles from torch's RNG
    model = TQClassifier(tq, n_wires, encoder, args.blocks, data.n_classes)
    identity = {"model": "torchquantum", "space": "u3cu3", "blocks": args.blocks,
                "encoder": encoder}
    record = {"config": {**identity, "task": data.name, "split": data.split}, "seed": args.seed}
    return _Run("torchquantum", model, data, config, out_dir / "torchquantum", identity, args,
                record)
