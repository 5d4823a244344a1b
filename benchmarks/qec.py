"""``qml-bench qec``: surface-code decoders, with one sub-subcommand per experiment.

- ``ler``: logical error rate per shot (95% intervals, same shots for every decoder) and throughput.
- ``train``: train the transformer decoder (module ``benchmarks.qec_train``).
- ``drift``: decoders built from a wrong noise model against the true-model decoder, and DGR.

Each sub-subcommand lives in its own module with ``add_arguments(parser)`` and
``run(args) -> Report``; modules are imported lazily, so one that is missing or broken
does not stop the others.
"""

from __future__ import annotations

import argparse
import importlib

from benchmarks.report import Report

# name -> (module, one-line help)
SUBCOMMANDS = {
    "ler": ("benchmarks.qec_ler", "logical error rate and throughput per decoder, distance and p"),
    "train": ("benchmarks.qec_train", "train the transformer decoder on sampled syndromes"),
    "drift": ("benchmarks.qec_drift", "mismatched noise models (hot qubits, drift, correlations) and DGR"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="qec_command", required=True, metavar="QEC_COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        # the common options are also accepted after the sub-subcommand
        p.add_argument("--json", metavar="PATH", default=argparse.SUPPRESS, help="write the results record to PATH")
        p.add_argument("--out", metavar="DIR", default=argparse.SUPPRESS, help="directory for plots and checkpoints")
        p.add_argument("--seed", type=int, default=argparse.SUPPRESS, help="random seed (default 0)")
        p.set_defaults(qec_module=module_name)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            p.set_defaults(qec_missing=f"'qml-bench qec {name}' is not available yet ({module_name} is missing)")
            continue
        module.add_arguments(p)


def run(args: argparse.Namespace) -> Report:
    missing = getattr(args, "qec_missing", None)
    if missing:
        raise ValueError(missing)
    return importlib.import_module(args.qec_module).run(args)
