"""``qml-bench qec train``: train the transformer decoder, then compare it with MWPM on the same shots.

Trains on batches drawn on the fly from stim (one model for all the ``--p`` values given,
batches alternate between them), checkpoints atomically to ``--out`` (``--resume`` continues,
``--init-from CKPT`` fine-tunes a model trained at another distance), then decodes
``--eval-shots`` fresh shots per ``p`` with the transformer (global and hybrid inference),
MWPM and correlated MWPM, and reports each LER with a 95% Wilson interval and shots/s.

Example: ``qml-bench qec train --distance 3 --noise code-capacity-xz --p 0.05 0.08 --steps 2000``
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import stim
import torch

from benchmarks.report import Report
from qec import codes
from qec.decoders.mwpm import CorrelatedMWPMDecoder, MWPMDecoder
from qec.decoders.transformer import TransformerDecoder
from qec.learned.circuits import code_capacity_xz
from qec.learned.train import TrainConfig, load_checkpoint, train

NOISES = ("code-capacity-xz",) + codes.NOISE_MODELS
COLUMNS = ["noise", "d", "p", "shots", "decoder", "ler", "ler_lo", "ler_hi", "shots_per_s", "train_steps"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--distance", type=int, default=3, help="code distance (default 3)")
    parser.add_argument("--noise", choices=NOISES, default="code-capacity-xz",
                        help="noise model (default code-capacity-xz: depolarizing data noise, both logicals)")
    parser.add_argument("--p", type=float, nargs="+", default=[0.05], help="physical error rate(s) to train on")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default: distance; 1 for code capacity)")
    parser.add_argument("--basis", choices=codes.BASES, default="z", help="memory basis (default z)")
    parser.add_argument("--steps", type=int, default=2000, help="total training steps (default 2000)")
    parser.add_argument("--batch-size", type=int, default=256, help="shots per training step (default 256)")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (default 1e-3)")
    parser.add_argument("--local-weight", type=float, default=0.5, help="weight of the per-qubit loss (default 0.5)")
    parser.add_argument("--d-model", type=int, default=64, help="transformer width (default 64)")
    parser.add_argument("--layers", type=int, default=3, help="transformer layers (default 3)")
    parser.add_argument("--heads", type=int, default=4, help="attention heads (default 4)")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    parser.add_argument("--init-from", metavar="CHECKPOINT", help="initialise from a model trained on another code")
    parser.add_argument("--checkpoint", metavar="PATH", help="checkpoint path (default OUT/transformer_NOISE_dD.pt)")
    parser.add_argument("--eval-only", action="store_true", help="skip training: evaluate the checkpoint")
    parser.add_argument("--eval-shots", type=int, default=100_000, help="test shots per p (default 100000)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def build_circuit(noise: str, distance: int, p: float, rounds: int | None, basis: str) -> stim.Circuit:
    """The memory circuit of a noise model (``code-capacity-xz`` or one of ``qec.codes``)."""
    if noise == "code-capacity-xz":
        if rounds not in (None, 1) or basis != "z":
            raise ValueError("code-capacity-xz has one round and observes both logicals (no --rounds/--basis)")
        return code_capacity_xz(distance, p)
    return codes.surface_code(distance, p, noise=noise, basis=basis, rounds=rounds)


def wilson(failures: int, shots: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a binomial rate."""
    if shots == 0:
        return 0.0, 1.0
    rate = failures / shots
    denom = 1 + z * z / shots
    centre = (rate + z * z / (2 * shots)) / denom
    half = z * math.sqrt(rate * (1 - rate) / shots + z * z / (4 * shots * shots)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def run(args: argparse.Namespace) -> Report:
    torch.set_num_threads(args.threads)
    if args.steps < 1 or args.batch_size < 1 or args.eval_shots < 1:
        raise ValueError("--steps, --batch-size and --eval-shots must be positive")
    circuits = [build_circuit(args.noise, args.distance, p, args.rounds, args.basis) for p in args.p]
    rounds = args.rounds or (1 if args.noise.startswith("code-capacity") else args.distance)
    code = {"distance": args.distance, "rounds": rounds, "basis": args.basis, "noise": args.noise,
            "p": list(args.p)}
    out = Path(getattr(args, "out", None) or "runs/qec")
    ckpt_path = Path(args.checkpoint or out / f"transformer_{args.noise}_d{args.distance}.pt")
    cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, local_weight=args.local_weight,
                      d_model=args.d_model, heads=args.heads, layers=args.layers, seed=args.seed,
                      progress=not args.no_progress)
    start = time.perf_counter()
    if args.eval_only:
        ckpt = load_checkpoint(ckpt_path)
    else:
        ckpt = train(circuits, code, cfg, checkpoint=str(ckpt_path), resume=args.resume,
                     init_from=args.init_from, device=args.device).to_checkpoint()
    train_s = time.perf_counter() - start
    report = Report(f"transformer decoder vs MWPM ({args.noise}, d={args.distance}, rounds={rounds})", COLUMNS,
                    config={**vars(args), "checkpoint": str(ckpt_path), "train_s": train_s,
                            "code": code, "init_from": ckpt.get("init_from")})
    for p, circuit in zip(args.p, circuits):
        evaluate(report, circuit, ckpt, code, p, args)
    report.notes.append(f"checkpoint {ckpt_path} ({ckpt['step']} steps; this run trained {train_s:.0f} s); "
                        "ler = any observable wrong per shot, [ler_lo, ler_hi] 95% Wilson; same shots per p")
    return report


def evaluate(report: Report, circuit: stim.Circuit, ckpt: dict, code: dict, p: float,
             args: argparse.Namespace) -> None:
    """Decode the same fresh shots with every decoder; add one row per decoder."""
    dets, obs = circuit.compile_detector_sampler(seed=args.seed + 1_000_000).sample(
        args.eval_shots, separate_observables=True)
    dem = circuit.detector_error_model(decompose_errors=True, approximate_disjoint_errors=True)
    decoders = {"transformer": TransformerDecoder(dem, ckpt, mode="global", device=args.device),
                "transformer-hybrid": TransformerDecoder(dem, ckpt, mode="hybrid", device=args.device),
                "mwpm": MWPMDecoder(dem), "mwpm-corr": CorrelatedMWPMDecoder(dem)}
    for name, decoder in decoders.items():
        t0 = time.perf_counter()
        flips = decoder.decode_batch(dets)
        rate = len(dets) / (time.perf_counter() - t0)
        fails = int((flips != obs).any(axis=1).sum())
        lo, hi = wilson(fails, len(dets))
        report.add(noise=code["noise"], d=code["distance"], p=p, shots=len(dets), decoder=name,
                   ler=fails / len(dets), ler_lo=lo, ler_hi=hi, shots_per_s=rate,
                   train_steps=ckpt["step"] if name.startswith("transformer") else "")
