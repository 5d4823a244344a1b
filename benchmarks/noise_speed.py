"""``qml-bench noise-speed``: our noisy execution against Aer, and the cost of noise injection.

Two measurements on one device, in one run:

- evaluation: the test images of a 4-qubit U3CU3 x2 QNN (a model trained noise-free for
  ``--epochs``) on the device, by our density-matrix mode (exact) and by Aer with
  ``--shots`` on the same transpiled circuit, both on ``--threads``; both times and accuracies, with the
  accuracy's shot-noise standard error estimated from Aer's <Z> spread;
- training: the median time of one forward + backward step at ``--batch-size`` with
  per-sample noise injection, against the same step noise-free (the QNN as written, and the
  QNN as transpiled for the device), steps interleaved so that a busy machine slows them alike.

    qml-bench noise-speed --device santiago
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from benchmarks.report import Report
from qml.data import load_task
from qml.layers import build_space, get_encoder
from qml.model import QNN
from qml.train import TrainConfig, Trainer

COLUMNS = ["measurement", "ours", "ours_ms", "peer", "peer_ms", "speedup", "detail"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="santiago", help="device name (default santiago)")
    parser.add_argument("--task", default="mnist4", help="data set (default mnist4)")
    parser.add_argument("--test-samples", type=int, default=300)
    parser.add_argument("--shots", type=int, default=8192)
    parser.add_argument("--epochs", type=int, default=5, help="noise-free training epochs of the model")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=15, help="timed training steps per variant")
    parser.add_argument("--data-dir")
    parser.add_argument("--threads", type=int, default=1)


def run(args: argparse.Namespace) -> Report:
    from noise import aer, program
    from noise.devices import Device
    from noise.nat import NATModel

    torch.set_num_threads(args.threads)
    device = Device.from_name(args.device)
    data = load_task(args.task, args.data_dir)
    qnn = QNN(data.n_wires, get_encoder(data.encoder, data.n_wires), build_space("u3cu3", data.n_wires, 2),
              n_classes=data.n_classes, seed=args.seed)
    Trainer(qnn, data, TrainConfig(epochs=args.epochs, seed=args.seed), progress=False).fit()
    x, y = data.x_test[:args.test_samples], data.y_test[:args.test_samples]
    feats = qnn.encoder.features(x)
    weights = qnn.weights.detach()
    prog = program.noisy_program(qnn.template, device)              # transpiled once, for both
    report = Report(f"noise speed on {device.name}: {args.test_samples} {args.task} test images, 4-qubit "
                    f"U3CU3 x2 ({sum(prog.count_ops.values())} gates after transpiling, depth {prog.depth}); "
                    f"training step at batch {args.batch_size}", COLUMNS,
                    config={k: v for k, v in vars(args).items() if k not in ("module_name",)})

    start = time.perf_counter()
    z_ours = program.density_expectations(qnn.template, device, weights, feats)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    z_aer = aer.expectations(qnn.template, device, weights, feats, shots=args.shots, seed=args.seed,
                             progress=False, threads=args.threads)          # the same threads as ours
    aer_s = time.perf_counter() - start
    acc = [(qnn.readout(z.float()).argmax(1) == y).float().mean().item() for z in (z_ours, z_aer)]
    # accuracy's shot noise: each sample's decision flips with the probability its scores cross
    sigma = ((1 - z_ours.double() ** 2) / args.shots).sqrt().mean().item()
    report.add(measurement="evaluate (density vs Aer)", ours="density matrix", ours_ms=1e3 * ours_s,
               peer=f"Aer {args.shots} shots", peer_ms=1e3 * aer_s, speedup=aer_s / ours_s,
               detail=f"accuracy {acc[0]:.3f} vs {acc[1]:.3f}; max |<Z> diff| "
                      f"{(z_ours.double() - z_aer).abs().max().item():.4f} (shot sigma per <Z> ~{sigma:.4f})")

    xb = data.x_train[:args.batch_size]
    nat = NATModel(qnn, device, normalize=False)
    nat.train()
    transpiled_free = NATModel(qnn, device, normalize=False, T=0.0)
    transpiled_free.train()
    steps = {"injection": nat, "noise-free (as written)": qnn, "noise-free (transpiled)": transpiled_free}
    times: dict = {k: [] for k in steps}
    for _ in range(args.repeats):
        for name, model in steps.items():
            start = time.perf_counter()
            model(xb).sum().backward()
            times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    for peer in ("noise-free (as written)", "noise-free (transpiled)"):
        report.add(measurement="training step", ours="per-sample injection", ours_ms=1e3 * med["injection"],
                   peer=peer, peer_ms=1e3 * med[peer], speedup=med[peer] / med["injection"],
                   detail=f"injection costs {med['injection'] / med[peer]:.2f}x; {len(prog.sites)} error sites")
    return report
