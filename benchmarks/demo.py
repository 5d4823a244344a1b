"""``qml-bench demo`` (``make demo``): the engine checked against qiskit, then a short QNN training.

First a random 10-qubit circuit is simulated and compared with qiskit's Statevector, with
timings of both. Then the training:

It needs no data files: scikit-learn's bundled 8x8 digits 0-3, pooled to 4x4, a 4-qubit
U3CU3 x2 classifier trained for a few epochs (batch 32: the 504 training images make 16
steps an epoch); it prints the accuracy table of ``qml-bench train``. Last, the toolkit's
main job: the same QNN on a fake IBM device (santiago), trained noise-free and with
QuantumNAT, noise-free and device accuracy side by side (the table of ``qml-bench nat``).
"""

from __future__ import annotations

import argparse

import tempfile
from pathlib import Path

from benchmarks import nat, train
from benchmarks.report import Report
from benchmarks.sim import engine_check


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--epochs", type=int, default=10, help="training epochs (default 10)")


def run(args: argparse.Namespace) -> Report:
    parser = argparse.ArgumentParser()
    train.add_arguments(parser)
    parser.add_argument("--out")
    parser.add_argument("--seed", type=int)
    argv = ["--task", "digits4", "--epochs", str(args.epochs), "--batch-size", "32",
            "--seed", str(args.seed)]
    train_args = parser.parse_args(argv + (["--out", args.out] if args.out else []))
    engine = engine_check(seed=args.seed)
    print("\n".join(engine), flush=True)
    report = train.run(train_args)
    report.title = "demo: " + report.title
    print(report.format_table(), "\n", flush=True)
    return _on_a_device(args)


def _on_a_device(args: argparse.Namespace) -> Report:
    """The same QNN on a fake IBM device (santiago, Aer with 8192 shots), then with QuantumNAT."""
    parser = argparse.ArgumentParser()
    nat.add_arguments(parser)
    parser.add_argument("--out")
    parser.add_argument("--seed", type=int)
    out = Path(args.out) / "nat" if args.out else Path(tempfile.mkdtemp(prefix="qml-demo-nat-"))
    nat_args = parser.parse_args(["--task", "digits4", "--device", "santiago", "--epochs", str(args.epochs),
                                  "--batch-size", "32", "--lr", "0.02", "--seed", str(args.seed),
                                  "--out", str(out), "--no-progress"] + (["--resume"] if out.exists() else []))
    print("the same QNN on santiago (qiskit-ibm-runtime's fake backend, Aer noise model), "
          "then trained with QuantumNAT ...", flush=True)
    report = nat.run(nat_args)
    report.title = "demo: " + report.title
    return report
