"""``qml-bench qec drift``: decoders built from the nominal (uniform) noise model against the
true, non-ideal noise, and DGR learning the true model from decoded shots.

Per distance it compares, on the same shots of the true noise: MWPM built on the nominal
model (static), MWPM built on the true model, DGR started from the nominal model and
calibrated offline on ``--calibration-shots`` shots of the true noise (alignment only, and
with correlation re-weighting; each pass re-decodes those shots), DGR online (alignment,
every calibration shot decoded once, weights re-estimated five times along the way), and for ``--scenario correlated`` also pymatching's correlated
mode on the true model and DGR started from the true model.  ``ratio`` is the LER divided
by that of MWPM on the true model.

Example: ``qml-bench qec drift --scenario hot-qubits --distances 5,7 --p 0.001 --shots 2000000``.
"""

from __future__ import annotations

import argparse
import os

from benchmarks.qec_ler import csv_list
from benchmarks.report import Report, write_csv
from qec.codes import SCENARIOS, check_distance, check_probability, surface_code
from qec.decoders.dgr import DGRDecoder
from qec.decoders.mwpm import CorrelatedMWPMDecoder, MWPMDecoder
from qec.evaluate import logical_error_rates

COLUMNS = ["scenario", "distance", "p", "decoder", "built_from", "calibration_shots", "shots", "errors",
           "ler", "ci_low", "ci_high", "ratio"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", choices=list(SCENARIOS), default="hot-qubits", help="default hot-qubits")
    parser.add_argument("--distances", type=csv_list(int), default=[5, 7], help="default 5,7")
    parser.add_argument("--p", type=float, default=0.001, help="nominal physical error rate (default 0.001)")
    parser.add_argument("--shots", type=int, default=1_000_000, help="test shots per distance (default 1e6)")
    parser.add_argument("--max-errors", type=int, default=None, help="stop early once every decoder has this many errors")
    parser.add_argument("--calibration-shots", type=int, default=10_000, help="shots DGR learns from (default 1e4)")
    parser.add_argument("--iterations", type=int, default=3, help="DGR alignment iterations (default 3)")
    parser.add_argument("--fraction", type=float, default=0.1, help="hot-qubits: fraction of hot qubits (default 0.1)")
    parser.add_argument("--factor", type=float, default=20.0, help="hot-qubits: how much noisier (default 20)")
    parser.add_argument("--sigma", type=float, default=0.5, help="spread: log-normal width (default 0.5)")
    parser.add_argument("--pair-p", type=float, default=None, help="correlated: pair depolarizing rate (default p)")


def true_circuit(args, distance: int):
    """The true noise of ``args.scenario`` at ``distance``, seeded by ``args.seed``."""
    if args.scenario == "hot-qubits":
        return SCENARIOS["hot-qubits"](distance, args.p, fraction=args.fraction, factor=args.factor, seed=args.seed)
    if args.scenario == "spread":
        return SCENARIOS["spread"](distance, args.p, sigma=args.sigma, seed=args.seed)
    if args.scenario == "correlated":
        return SCENARIOS["correlated"](distance, args.p, pair_p=args.pair_p)
    return SCENARIOS["drift"](distance, args.p)


def run(args: argparse.Namespace) -> Report:
    distances = [check_distance(d) for d in args.distances]
    check_probability(args.p)
    if args.shots < 1 or args.calibration_shots < 1:
        raise ValueError("--shots and --calibration-shots must be >= 1")
    report = Report(title=f"QEC decoders under {args.scenario} noise (decoder model: uniform p={args.p}; "
                          f"LER per shot, 95% Wilson intervals, same shots)",
                    columns=COLUMNS, config=dict(vars(args)))
    for distance in distances:
        true = true_circuit(args, distance)
        nominal = surface_code(distance, args.p)
        calibration = true.compile_detector_sampler(seed=args.seed + 1).sample(args.calibration_shots)

        def dgr(circuit, correlations):
            decoder = DGRDecoder.from_circuit(circuit, iterations=args.iterations, correlations=correlations)
            return decoder.calibrate(calibration)

        def dgr_online(circuit):  # decodes the calibration shots once, as a stream, re-weighting as it goes
            decoder = DGRDecoder.from_circuit(circuit, correlations=False, online=True,
                                              update_every=max(1, args.calibration_shots // 5))
            decoder.decode_batch(calibration)
            decoder.online = False  # then frozen for the test shots
            return decoder

        decoders = {
            ("mwpm", "nominal"): MWPMDecoder.from_circuit(nominal),
            ("mwpm", "true"): MWPMDecoder.from_circuit(true),
            ("dgr-align", "nominal"): dgr(nominal, False),
            ("dgr-online", "nominal"): dgr_online(nominal),
            ("dgr-corr", "nominal"): dgr(nominal, True),
        }
        if args.scenario == "correlated":
            decoders[("mwpm-corr", "true")] = CorrelatedMWPMDecoder.from_circuit(true)
            decoders[("dgr-corr", "true")] = dgr(true, True)
        results = logical_error_rates(true, decoders, args.shots, seed=args.seed + 2,
                                      max_errors=args.max_errors, progress=True)
        reference = results[("mwpm", "true")].ler
        for (name, built_from), r in results.items():
            report.add(scenario=args.scenario, distance=distance, p=args.p, decoder=name, built_from=built_from,
                       calibration_shots=args.calibration_shots if name.startswith("dgr") else 0,
                       shots=r.shots, errors=r.errors, ler=r.ler, ci_low=r.ci_low, ci_high=r.ci_high,
                       ratio=r.ler / reference if reference > 0 else float("nan"))
    if getattr(args, "out", None):  # written after the table is printed (benchmarks.cli)
        csv_path = os.path.join(args.out, f"qec_drift_{args.scenario}.csv")
        report.output(csv_path, lambda: write_csv(report, csv_path))
    return report
