"""``qml-bench qec ler``: logical error rate per shot and decoding throughput, per decoder,
distance and physical error rate; every decoder decodes the same sampled shots.

Example: ``qml-bench qec ler --decoders mwpm,uf,dgr --distances 3,5,7 --noise circuit
--p 0.001,0.003,0.005 --shots 1000000 --out results/qec``.  With ``--basis zx`` (for
code capacity) each shot has both logical observables, and it fails if either is wrong
(see ``qec.codes``).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from benchmarks.report import Report, write_csv
from qec.codes import BASES, NOISE_MODELS, check_distance, check_probability, surface_code
from qec.decoders import DECODERS, get_decoder_class
from qec.evaluate import logical_error_rates, wilson_interval
from qec.stratified import stratified_logical_error_rates

COLUMNS = ["decoder", "distance", "p", "noise", "basis", "shots", "errors", "ler", "ci_low", "ci_high",
           "shots_per_s"]


def csv_list(kind):
    def parse(text: str) -> list:
        try:
            return [kind(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list of {kind.__name__}, got {text!r}")
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--decoders", type=csv_list(str), default=["mwpm", "uf"],
                        help=f"comma-separated decoders ({', '.join(DECODERS)}); default mwpm,uf")
    parser.add_argument("--distances", type=csv_list(int), default=[3, 5, 7], help="default 3,5,7")
    parser.add_argument("--noise", choices=NOISE_MODELS, default="circuit", help="default circuit")
    parser.add_argument("--p", type=csv_list(float), default=[0.001, 0.003, 0.005], help="default 0.001,0.003,0.005")
    parser.add_argument("--basis", choices=list(BASES), default="z", help="memory basis (default z; zx: both observables, code capacity only)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default d; 1 for code capacity)")
    parser.add_argument("--shots", type=int, default=100_000, help="shots per point (default 1e5)")
    parser.add_argument("--max-errors", type=int, default=None,
                        help="stop a point early once every decoder has this many errors")
    parser.add_argument("--stratify", action="store_true",
                        help="code-capacity and phenomenological noise: stratify on the number of faults "
                             "(qec.stratified) to reach rates far below 1/shots; --shots is then the fault "
                             "patterns per weight, and shots/errors count patterns")
    parser.add_argument("--calibration-shots", type=int, default=10_000,
                        help="shots DGR calibrates on (separately sampled; default 1e4)")
    parser.add_argument("--checkpoint", default=None,
                        help="transformer checkpoint; {d}, {p} and {noise} are filled in, e.g. runs/qec_d{d}.pt "
                             "(default: the model shipped for each distance and noise, qec.learned.pretrained)")
    parser.add_argument("--transformer-mode", choices=["global", "hybrid"], default="global",
                        help="transformer inference mode (default global)")


def decoder_options(name: str, args, distance: int, p: float) -> dict:
    """Keyword arguments for decoder ``name`` from the command line (the transformer's checkpoint)."""
    if name != "transformer":
        return {}
    if args.checkpoint:
        checkpoint = args.checkpoint.format(d=distance, p=p, noise=args.noise)
    else:  # the shipped model for this code (a ValueError lists what ships when none fits)
        from qec.learned import pretrained  # loads torch: only when a transformer is asked for

        checkpoint = pretrained.find(distance, args.noise, args.basis, args.rounds)
    return {"checkpoint": checkpoint, "mode": args.transformer_mode}


def build_decoder(name: str, circuit, calibration_seed: int, calibration_shots: int, **options):
    """Build decoder ``name`` from ``circuit``'s DEM; DGR also calibrates on fresh shots of it.
    One warm-up call (compilation, caches) keeps set-up time out of the throughput."""
    decoder = get_decoder_class(name).from_circuit(circuit, **options)
    if hasattr(decoder, "calibrate"):
        decoder.calibrate(circuit.compile_detector_sampler(seed=calibration_seed).sample(calibration_shots))
    decoder.decode_batch(circuit.compile_detector_sampler(seed=calibration_seed).sample(100))
    return decoder


def measure_point(args, distance: int, p: float, seed: int) -> dict[str, tuple]:
    """(shots, errors, ler, ci_low, ci_high, shots_per_s) per decoder at one distance and p."""
    circuit = surface_code(distance, p, noise=args.noise, basis=args.basis, rounds=args.rounds)
    decoders = {n: build_decoder(n, circuit, seed + 7919, args.calibration_shots, **decoder_options(n, args, distance, p))
                for n in args.decoders}
    if args.stratify:
        strata = stratified_logical_error_rates(circuit, decoders, args.shots, seed=seed, progress=True)
        return {name: (r.patterns, r.failures, r.ler, r.ci_low, r.ci_high, r.patterns / r.decode_s)
                for name, r in strata.items()}
    results = logical_error_rates(circuit, decoders, args.shots, seed=seed, max_errors=args.max_errors, progress=True)
    return {name: (r.shots, r.errors, r.ler, *wilson_interval(r.errors, r.shots), r.shots_per_s)
            for name, r in results.items()}


def run(args: argparse.Namespace) -> Report:
    distances = [check_distance(d) for d in args.distances]
    ps = [check_probability(p) for p in args.p]
    for name in args.decoders:
        get_decoder_class(name)  # unknown names fail before any work
    if args.shots < 1:
        raise ValueError(f"--shots must be >= 1, got {args.shots}")
    if args.stratify and args.max_errors is not None:
        raise ValueError("--max-errors does not apply with --stratify (every fault weight gets --shots patterns)")
    sampling = ("stratified on the number of faults, 95% intervals, same fault patterns for every decoder"
                if args.stratify else "95% Wilson intervals, same shots for every decoder")
    report = Report(title=f"QEC logical error rate per shot ({args.noise} noise, memory {args.basis}, {sampling})",
                    columns=COLUMNS, config={k: v for k, v in vars(args).items() if k not in ("func",)})
    for distance in distances:
        for i, p in enumerate(ps):
            results = measure_point(args, distance, p, seed=args.seed * 1_000_003 + 1000 * distance + i)
            for name, values in results.items():
                report.add(decoder=name, distance=distance, p=p, noise=args.noise, basis=args.basis,
                           **dict(zip(COLUMNS[5:], values)))
    if getattr(args, "out", None):  # written after the table is printed (benchmarks.cli)
        csv_path, png_path = os.path.join(args.out, "qec_ler.csv"), os.path.join(args.out, "qec_ler.png")
        report.output(csv_path, lambda: write_csv(report, csv_path))
        report.output(png_path, lambda: plot_ler(report, png_path))
    return report


def plot_ler(report: Report, path: str) -> None:
    """Logical error rate vs p, one line per decoder and distance, with the 95% intervals."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from benchmarks.report import atomic_write_bytes

    fig, ax = plt.subplots(figsize=(6, 4.5))
    decoders = list(dict.fromkeys(r["decoder"] for r in report.rows))
    distances = list(dict.fromkeys(r["distance"] for r in report.rows))
    markers = "osD^v<>"
    for i, name in enumerate(decoders):
        for j, d in enumerate(distances):
            rows = [r for r in report.rows if r["decoder"] == name and r["distance"] == d and r["errors"] > 0]
            if not rows:
                continue
            x = np.array([r["p"] for r in rows])
            y = np.array([r["ler"] for r in rows])
            err = np.array([[r["ler"] - r["ci_low"] for r in rows], [r["ci_high"] - r["ler"] for r in rows]])
            ax.errorbar(x, y, yerr=err, color=f"C{i}", marker=markers[j % len(markers)], capsize=2,
                        label=f"{name} d={d}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("physical error rate p")
    ax.set_ylabel("logical error rate per shot")
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    atomic_write_bytes(path, _figure_bytes(fig))
    plt.close(fig)


def _figure_bytes(fig) -> bytes:
    import io
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    return buf.getvalue()
