"""``qml-bench qec train``: train the transformer decoder, then compare it with MWPM on the same shots.

Trains on batches drawn on the fly from stim (one model for all the ``--p`` values given,
batches alternate between them), checkpoints atomically (``--resume`` continues,
``--init-from CKPT`` fine-tunes a model trained at another distance), then decodes
``--eval-shots`` fresh shots per ``p`` with the transformer (global and hybrid inference),
MWPM and correlated MWPM, and reports each LER with a 95% Wilson interval and shots/s.

Example: ``qml-bench qec train --distance 3 --noise code-capacity --p 0.05 0.08 --steps 2000``
(code capacity defaults to basis ``zx``: both logicals, a shot fails if either flips).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from benchmarks.cli import writable_dir
from benchmarks.report import Report
from qec import codes
from qec.decoders.mwpm import CorrelatedMWPMDecoder, MWPMDecoder
from qec.decoders.transformer import TransformerDecoder
from qec.evaluate import logical_error_rates
from qec.learned.checkpoint import load_checkpoint
from qec.learned.train import TrainConfig, train

COLUMNS = ["noise", "d", "p", "shots", "decoder", "ler", "ci_low", "ci_high", "shots_per_s", "train_steps"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--distance", type=int, default=3, help="code distance (default 3)")
    parser.add_argument("--noise", choices=codes.NOISE_MODELS, default="code-capacity",
                        help="noise model (default code-capacity)")
    parser.add_argument("--p", type=float, nargs="+", default=[0.05], help="physical error rate(s) to train on")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default: distance; 1 for code capacity)")
    parser.add_argument("--basis", choices=codes.BASES, default=None,
                        help="memory basis (default zx for code capacity: both logicals; else z)")
    parser.add_argument("--steps", type=int, default=2000, help="total training steps (default 2000)")
    parser.add_argument("--batch-size", type=int, default=256, help="shots per training step (default 256)")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (default 1e-3)")
    parser.add_argument("--warmup", type=int, default=100, help="learning-rate warm-up steps (default 100)")
    parser.add_argument("--local-weight", type=float, default=0.5, help="weight of the per-qubit loss (default 0.5)")
    parser.add_argument("--d-model", type=int, default=64, help="transformer width (default 64)")
    parser.add_argument("--layers", type=int, default=3, help="transformer layers (default 3)")
    parser.add_argument("--heads", type=int, default=4, help="attention heads (default 4)")
    parser.add_argument("--matching-prior", action="store_true",
                        help="give the model MWPM's prediction as an input (reported as transformer+mwpm)")
    parser.add_argument("--local-attention", action="store_true",
                        help="detector and data-qubit tokens attend only to their neighbourhood (transfers better)")
    parser.add_argument("--line-readout", action="store_true",
                        help="read each observable on every equivalent translate of its support (transfers better)")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    parser.add_argument("--init-from", metavar="CHECKPOINT", help="initialise from a model trained on another code")
    parser.add_argument("--checkpoint", metavar="PATH",
                        help="checkpoint path (default OUT/transformer_NOISE-BASIS_dD.pt, OUT default runs/qec)")
    parser.add_argument("--eval-only", action="store_true", help="skip training: evaluate the checkpoint")
    parser.add_argument("--eval-shots", type=int, default=100_000, help="test shots per p (default 100000)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> Report:
    torch.set_num_threads(args.threads)
    if args.steps < 1 or args.batch_size < 1 or args.eval_shots < 1:
        raise ValueError("--steps, --batch-size and --eval-shots must be positive")
    basis = args.basis or ("zx" if args.noise.startswith("code-capacity") else "z")
    circuits = [codes.surface_code(args.distance, p, noise=args.noise, basis=basis, rounds=args.rounds)
                for p in args.p]
    rounds = args.rounds or (1 if args.noise.startswith("code-capacity") else args.distance)
    code = {"distance": args.distance, "rounds": rounds, "basis": basis, "noise": args.noise, "p": list(args.p)}
    out = Path(getattr(args, "out", None) or "runs/qec")
    ckpt_path = Path(args.checkpoint or out / f"transformer_{args.noise}-{basis}_d{args.distance}.pt")
    cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, warmup=args.warmup, local_weight=args.local_weight,
                      d_model=args.d_model, heads=args.heads, layers=args.layers,
                      matching_prior=args.matching_prior, local_attention=args.local_attention,
                      line_readout=args.line_readout, seed=args.seed,
                      progress=not args.no_progress)
    if not args.eval_only:  # checked before training, not at the first checkpoint
        if ckpt_path.is_dir():
            raise ValueError(f"--checkpoint {ckpt_path} is a directory; give a file name such as "
                             f"{ckpt_path / 'model.pt'}")
        writable_dir(ckpt_path.parent, f"--checkpoint {ckpt_path}: directory")
    start = time.perf_counter()
    if args.eval_only:
        ckpt = load_checkpoint(ckpt_path)
    else:
        ckpt = train(circuits, code, cfg, checkpoint=str(ckpt_path), resume=args.resume,
                     init_from=args.init_from, device=args.device).to_checkpoint()
    train_s = time.perf_counter() - start
    report = Report(f"transformer decoder vs MWPM ({args.noise}, basis {basis}, d={args.distance}, rounds={rounds})",
                    COLUMNS, config={**vars(args), "checkpoint": str(ckpt_path), "train_s": train_s,
                                     "code": code, "init_from": ckpt.get("init_from")})
    learned = "transformer+mwpm" if ckpt["model_config"].get("matching_prior") else "transformer"
    for p, circuit in zip(args.p, circuits):
        dem = circuit.detector_error_model(decompose_errors=True, approximate_disjoint_errors=True)
        decoders = {learned: TransformerDecoder(dem, ckpt, mode="global", device=args.device),
                    f"{learned}-hybrid": TransformerDecoder(dem, ckpt, mode="hybrid", device=args.device),
                    "mwpm": MWPMDecoder(dem), "mwpm-corr": CorrelatedMWPMDecoder(dem)}
        results = logical_error_rates(circuit, decoders, args.eval_shots, seed=args.seed + 1_000_000)
        for name, r in results.items():
            report.add(noise=args.noise, d=args.distance, p=p, shots=r.shots, decoder=name, ler=r.ler,
                       ci_low=r.ci_low, ci_high=r.ci_high, shots_per_s=r.shots_per_s,
                       train_steps=ckpt["step"] if name.startswith("transformer") else "")
    report.notes.append(f"checkpoint {ckpt_path} ({ckpt['step']} steps; this run: {train_s:.0f} s); ler = any "
                        "observable wrong per shot, [ci_low, ci_high] 95% Wilson; every decoder sees the same shots")
    return report
