"""``qml-bench depth``: does the engine's cost grow linearly in circuit size? (issue 16)

Compiling, simulating and differentiating a circuit must cost time and memory linear in its
number of gates. The circuit is the one of ``qml-bench train --task digits4 --space random
--params N``: the 16-feature angle encoder ``4x4_ryzxy`` (RY, RZ, RX, RY layers on wires 0-3),
then ``qml.layers.random_circuit(wires, N, seed=0)``. A step is
``qml.expval_z(qml.simulate(circuit, w, x, gradient=g)).sum().backward()`` with float32 weights
``w`` (N,), uniform features ``x`` (batch, 16) and complex64 states.

Every (size, gradient) runs in its own worker process on one thread, with glibc's mmap threshold
fixed so that freed buffers go back to the OS (:mod:`benchmarks.worker`). The worker times the
circuit's build, the first step (which compiles the plan), the median of ``--repeats`` later
steps, and takes the peak resident memory of one more step above the memory before it. The notes
give, per gradient method, the least-squares slope of log(step_ms) and of log(peak_MiB) against
log(gates) over the sizes of at least 1000 parameters: 1.0 is linear. ``depth.png`` in ``--out``
(default ``results/depth``) plots both against the gates, log-log, beside a linear reference.

Example::

    qml-bench depth --params 100,1000,10000,100000 --gradient both --out results/depth
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import sys
import time
from pathlib import Path

from benchmarks.report import Report
from benchmarks.worker import in_subprocess, positive_ints, reset_peak, send_result, status_mib
from qml.layers import ENCODERS, random_circuit

PARAMS = (100, 300, 1000, 3000, 10000, 30000, 100000)
ENCODER = "4x4_ryzxy"
GRADIENTS = ("autograd", "adjoint")
SLOPE_FROM = 1000  # the slopes fit the sizes of at least this many parameters
COLUMNS = ["params", "gates", "gradient", "build_s", "first_s", "step_ms", "step_us_per_gate", "peak_MiB",
           "peak_KiB_per_gate"]
PANELS = (("step_ms", "forward + backward step (ms)"), ("peak_MiB", "peak memory of a step (MiB)"))


def add_arguments(parser) -> None:
    parser.add_argument("--params", default=",".join(map(str, PARAMS)),
                        help=f"comma-separated trainable parameter counts (default {','.join(map(str, PARAMS))})")
    parser.add_argument("--wires", type=int, default=4, help="qubits (default 4)")
    parser.add_argument("--batch", type=int, default=256, help="samples per step (default 256)")
    parser.add_argument("--gradient", default="both", help="autograd, adjoint or both (default both)")
    parser.add_argument("--repeats", type=int, default=5, help="timed steps after the first (default 5)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)


def depth_circuit(n_wires: int, n_params: int):
    """The measured circuit: the ``4x4_ryzxy`` encoder, then ``random_circuit(n_wires, n_params, seed=0)``.

    Example:
        >>> c = depth_circuit(4, 100)
        >>> len(c.parameters), c.n_inputs
        (100, 16)
    """
    return ENCODERS[ENCODER].circuit(n_wires) + random_circuit(n_wires, n_params, seed=0)


def loglog_slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of log(y) against log(x) over the points with y > 0; None below two x.

    Example:
        >>> round(loglog_slope([10, 100, 1000], [3, 30, 300]), 6)
        1.0
    """
    points = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if y > 0]
    if len({x for x, _ in points}) < 2:
        return None
    mx = statistics.fmean(x for x, _ in points)
    my = statistics.fmean(y for _, y in points)
    return sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)


def _gradients(text: str) -> list[str]:
    if text == "both":
        return list(GRADIENTS)
    if text not in GRADIENTS:
        raise ValueError(f"--gradient must be autograd, adjoint or both, got {text!r}")
    return [text]


def _config(args) -> dict:
    """The run's settings from the options; a ValueError naming a bad one."""
    encoder = ENCODERS[ENCODER]
    if args.wires < encoder.n_wires:
        raise ValueError(f"--wires must be at least {encoder.n_wires} (the {ENCODER} encoder reads "
                         f"{encoder.n_features} features on wires 0-{encoder.n_wires - 1}), got {args.wires}")
    for option, value in (("--batch", args.batch), ("--repeats", args.repeats)):
        if value < 1:
            raise ValueError(f"{option} must be a positive integer, got {value}")
    return {"params": positive_ints(args.params, "--params"), "wires": args.wires, "batch": args.batch,
            "gradients": _gradients(args.gradient), "repeats": args.repeats, "seed": args.seed}


def run(args) -> Report:
    if args.worker:
        send_result(_measure(json.loads(args.worker)))
        sys.exit(0)
    config = _config(args)
    out = Path(args.out or "results/depth")
    report = Report(f"qml-bench depth: engine cost against circuit size ({config['wires']} wires, batch "
                    f"{config['batch']}, {ENCODER} encoder + random circuit, forward + backward, complex64, "
                    f"1 thread)", COLUMNS, config={**config, "out": str(out)})
    for n_params in config["params"]:
        for gradient in config["gradients"]:
            report.add(**_row(n_params, gradient, config))
    report.notes += _slope_notes(report.rows)
    report.output(out / "depth.png", lambda: _plot(report.rows, out / "depth.png"))
    return report


def _row(n_params: int, gradient: str, config: dict) -> dict:
    """One table row, measured in a fresh worker process."""
    task = {key: config[key] for key in ("wires", "batch", "repeats", "seed")}
    got = in_subprocess("depth", {**task, "params": n_params, "gradient": gradient}, threads=1, memory=True)
    print(f"depth: {n_params} params, {gradient}: {got['step_ms']:.2f} ms per step, peak {got['peak_MiB']:.1f} MiB",
          file=sys.stderr, flush=True)
    return {"params": n_params, "gradient": gradient, **got, "step_us_per_gate": 1e3 * got["step_ms"] / got["gates"],
            "peak_KiB_per_gate": 1024 * got["peak_MiB"] / got["gates"]}


def _measure(task: dict) -> dict:
    """The worker: build the circuit, time its first and later steps, take a step's peak memory."""
    import torch

    from qml import expval_z, simulate

    torch.set_num_threads(1)
    torch.manual_seed(task["seed"])
    gc.collect()  # else a full collection of what the imports left may fall in the build and cost 0.1 s
    start = time.perf_counter()
    circuit = depth_circuit(task["wires"], task["params"])
    build_s = time.perf_counter() - start
    x = torch.rand(task["batch"], circuit.n_inputs)
    w = torch.rand(task["params"], requires_grad=True)

    def step() -> float:
        start = time.perf_counter()
        expval_z(simulate(circuit, w, x, gradient=task["gradient"])).sum().backward()
        return time.perf_counter() - start

    first_s = step()
    step_ms = 1e3 * statistics.median(step() for _ in range(task["repeats"]))
    before = reset_peak()
    step()
    return {"gates": len(circuit.ops), "build_s": build_s, "first_s": first_s, "step_ms": step_ms,
            "peak_MiB": status_mib("VmHWM") - before}


def _slope_notes(rows: list[dict]) -> list[str]:
    """Per column, the log-log slope against gates of each gradient method over the large sizes."""
    notes = []
    for column, _ in PANELS:
        slopes = []
        for gradient in dict.fromkeys(r["gradient"] for r in rows):
            fit = [r for r in rows if r["gradient"] == gradient and r["params"] >= SLOPE_FROM]
            slope = loglog_slope([r["gates"] for r in fit], [r[column] for r in fit])
            slopes.append(f"{gradient} {'n/a' if slope is None else f'{slope:.2f}'}")
        notes.append(f"slope of log({column}) against log(gates), sizes >= {SLOPE_FROM} params (1.0 = linear; "
                     f"n/a: fewer than two such sizes): {', '.join(slopes)}")
    return notes


def _plot(rows: list[dict], path: Path) -> None:
    """Step time and peak memory against gates, log-log, one line per gradient method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from qml.files import save_figure

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, (column, label) in zip(axes, PANELS):
        for i, gradient in enumerate(dict.fromkeys(r["gradient"] for r in rows)):
            mine = [r for r in rows if r["gradient"] == gradient]
            ax.plot([r["gates"] for r in mine], [r[column] for r in mine], marker="o", color=f"C{i}", label=gradient)
        _linear_reference(ax, rows, column)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("gates in the circuit")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("qml-bench depth: cost against circuit size")
    fig.tight_layout()
    save_figure(fig, path, dpi=120)


def _linear_reference(ax, rows: list[dict], column: str) -> None:
    """A dashed line proportional to gates, through the mean value at the largest circuit."""
    top = max(r["gates"] for r in rows)
    values = [r[column] for r in rows if r["gates"] == top and r[column] > 0]
    if not values:
        return
    per_gate = statistics.fmean(values) / top
    gates = sorted({r["gates"] for r in rows})
    ax.plot(gates, [per_gate * g for g in gates], "k--", linewidth=1, label="linear")
