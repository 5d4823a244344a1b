"""The ``qml-bench`` command line: one subcommand per experiment module.

Each module listed in ``COMMANDS`` exposes ``add_arguments(parser)`` and
``run(args) -> Report``; the CLI adds the common options (``--json``, ``--out``,
``--seed``), times the run, prints the table and writes the JSON record.

Before any work the CLI checks, for every command, what it can check generically: ``--out``
is (or is created as) a writable directory, ``--json`` names a file in a writable directory,
``--threads`` is positive and ``--device cuda`` has a CUDA device. A bad value is one line
on stderr and exit status 2. After the work it prints the table first, then writes the
files the command scheduled (:meth:`Report.output`) and the JSON record, so that a failing
write never loses the table.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

from benchmarks.report import Report, write_json

# subcommand -> (module, one-line help)
COMMANDS = {
    "demo": ("benchmarks.demo", "the main job: a short run that shows the toolkit end to end"),
    "sim": ("benchmarks.sim", "simulator speed and memory against peer simulators (B1-B4)"),
    "depth": ("benchmarks.depth", "engine cost against circuit size: compile, forward + backward time and peak "
                                  "memory from 100 to 100,000 parameters"),
    "train": ("benchmarks.train", "train a QNN classifier and report its accuracy"),
    "qec": ("benchmarks.qec", "surface-code decoders: logical error rates, training, drift"),
    "devices": ("benchmarks.devices", "calibration of IBM devices: qubits, edges, gate/readout errors, T1/T2"),
    "nat": ("benchmarks.nat", "QuantumNAT: a QNN's accuracy on a noisy device, baseline against noise-aware training"),
    "noise-speed": ("benchmarks.noise_speed", "our density-matrix mode against Aer, and the cost of noise injection"),
    "vqe": ("benchmarks.vqe", "VQE on molecular Hamiltonians (H2, LiH, H2O, CH4, BeH2): UCCSD or a searched circuit, noise-free and on a device"),
    "nas": ("benchmarks.nas", "QuantumNAS: SuperCircuit training, co-search of circuit and qubit mapping under a device's noise, pruning"),
    "quest": ("benchmarks.quest", "QuEst: predict a circuit's fidelity (PST) on a device with a graph transformer"),
    "onchip": ("benchmarks.onchip", "QOC: train a QNN on the device by parameter shift, with gradient pruning"),
    "robust-state": ("benchmarks.robust_state", "RobustState: state preparation trained with the device in the loop"),
    "sea": ("benchmarks.sea", "QuantumSEA: sparse training at a fixed gate budget against baselines of as many gates"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s module is imported (each pulls in what it needs)."""
    parser = argparse.ArgumentParser(prog="qml-bench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--json", metavar="PATH", help="write the results record to PATH")
        p.add_argument("--out", metavar="DIR", help="directory for plots and checkpoints")
        p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        p.add_argument("--markdown", action="store_true", help="print the table as markdown")
        p.set_defaults(module_name=module_name)
        if name == command:
            importlib.import_module(module_name).add_arguments(p)
    return parser


def writable_dir(path: Path, option: str) -> None:
    """Create ``path`` (and its parents) unless it exists; a ValueError unless it is a writable directory."""
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option} {path} is a file, not a directory")
    for parent in path.parents:  # a path under a file
        if parent.exists() and not parent.is_dir():
            raise ValueError(f"{option} {path}: {parent} is a file, not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"{option} {path}: cannot create the directory ({err.strerror or err})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {path}: the directory is not writable")


def check_common_options(args: argparse.Namespace) -> None:
    """Validate (and create) ``--out`` and ``--json``'s directory, ``--threads``, ``--device``.

    Runs before the command does any work; a problem is a ValueError naming the option.
    """
    out = getattr(args, "out", None)
    if out:
        writable_dir(Path(out), "--out")
    json_path = getattr(args, "json", None)
    if json_path:
        path = Path(json_path)
        if path.is_dir() or json_path.endswith(os.sep):
            raise ValueError(f"--json {json_path} is a directory; give a file name such as "
                             f"{path / 'results.json'}")
        writable_dir(path.parent if str(path.parent) else Path("."), f"--json {json_path}: directory")
        if path.exists() and not os.access(path, os.W_OK):
            raise ValueError(f"--json {json_path}: the file is not writable")
    threads = getattr(args, "threads", None)
    if isinstance(threads, int) and threads < 1:
        raise ValueError(f"--threads must be a positive integer, got {threads}")
    device = getattr(args, "device", None)
    if isinstance(device, str) and device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ValueError(f"--device {device} asked for, but this torch sees no CUDA device "
                             f"(torch {torch.__version__}); use --device cpu")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(command).parse_args(argv)
    start = time.perf_counter()
    try:
        check_common_options(args)
        module = importlib.import_module(args.module_name)
        report: Report = module.run(args)
    except ValueError as err:  # bad input: one clear line, no traceback
        print(f"qml-bench {args.command}: error: {err}", file=sys.stderr)
        return 2
    report.wall_s = time.perf_counter() - start
    print(report.format_markdown() if args.markdown else report.format_table(), flush=True)
    try:  # the table is out: a failing write loses nothing else
        for path in report.write_outputs():
            print(f"wrote {path}")
        if args.json:
            write_json(report, args.json, seed=args.seed)
            print(f"wrote {args.json}")
    except OSError as err:
        print(f"qml-bench {args.command}: error: cannot write {err.filename or ''}: "
              f"{err.strerror or err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
