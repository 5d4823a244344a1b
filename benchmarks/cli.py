"""The ``qml-bench`` command line: one subcommand per experiment module.

Each module listed in ``COMMANDS`` exposes ``add_arguments(parser)`` and
``run(args) -> Report``; the CLI adds the common options (``--json``, ``--out``,
``--seed``), times the run, prints the table and writes the JSON record.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from benchmarks.report import Report, write_json

# subcommand -> (module, one-line help)
COMMANDS = {
    "demo": ("benchmarks.demo", "the main job: a short run that shows the toolkit end to end"),
    "sim": ("benchmarks.sim", "simulator speed and memory against peer simulators (B1-B4)"),
    "train": ("benchmarks.train", "train a QNN classifier and report its accuracy"),
    "qec": ("benchmarks.qec", "surface-code decoders: logical error rates, training, drift"),
    "devices": ("benchmarks.devices", "calibration of IBM devices: qubits, edges, gate/readout errors, T1/T2"),
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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(command).parse_args(argv)
    module = importlib.import_module(args.module_name)
    start = time.perf_counter()
    try:
        report: Report = module.run(args)
    except ValueError as err:  # bad input: one clear line, no traceback
        print(f"qml-bench {args.command}: error: {err}", file=sys.stderr)
        return 2
    report.wall_s = time.perf_counter() - start
    print(report.format_markdown() if args.markdown else report.format_table())
    if args.json:
        write_json(report, args.json, seed=args.seed)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
