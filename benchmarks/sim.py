"""``qml-bench sim``: simulator speed (B1-B3) and memory (B4) beside every importable peer.

Every measurement (case, size, precision, simulator, thread count) runs in its own worker
process, with the OpenMP/BLAS thread counts set before anything is imported: every simulator
gets the same threads, and no thread pool (spinning OpenMP workers) or cache of another
simulator is left behind. Timings are medians (with min-max) of repeated runs after a warm-up.

Every row runs at one precision (``--dtype complex64|complex128|both``): ours at that dtype,
each peer at its matching setting, a peer without one absent from that precision's rows
(:data:`benchmarks.sim_peers.PEERS`); a worker refuses a step whose simulator reports another
precision. ``x ours`` is the peer's median over our best at the same precision (above 1: we
are faster), and the summary compares only rows of one precision.

B2 rows carry a memory-bandwidth floor. A pass over the state reads and writes it once,
2 x 2^n x itemsize bytes (itemsize 8 at complex64, 16 at complex128); the circuit needs at
the fewest as many passes as our compiled plan has steps, plus one (the initial product
state written once and the expectation read once count as one pass together). ``floor_ms``
is those bytes over the bandwidth measured at the start of the run, per thread count
(``dst.copy_(src)`` of a 256 MiB tensor, read + write = 2 x size, median of repeats, in a
worker like the others); ``x floor`` is our median over it.

B4 measures the peak resident memory of a gradient step above the memory before it, in a
fresh process per setting, with glibc's mmap threshold fixed so that freed buffers are
returned at once.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from benchmarks.report import Report
from benchmarks.worker import in_subprocess, positive_ints, reset_peak, send_result, status_mib

WIDE_SIZES = (10, 12, 14, 16, 18, 20, 22)
GRAD_SIZES = (12, 16)
MEMORY_LAYERS = (10, 100)
MEMORY_QUBITS = 20
ITEMSIZE = {"complex64": 8, "complex128": 16}
COPY_BYTES = 256 * 2 ** 20  # the tensor copied to measure the memory bandwidth
COPY_BUDGET = 0.5  # seconds of repeated copies
COLUMNS = ["case", "qubits", "threads", "precision", "simulator", "median_ms", "min_ms", "max_ms", "x ours",
           "floor_ms", "x floor", "peak_MiB"]
FLOOR_NOTE = ("floor_ms (B2): the bytes the circuit must move at the fewest over the measured bandwidth; a pass "
              "over the state reads and writes it once (2 x 2^n x 8 bytes at complex64, x 16 at complex128), "
              "and the circuit needs (steps of our compiled plan) + 1 passes (the initial product state written "
              "and the expectation read count as one pass together); 'x floor' = our median / floor_ms")


def add_arguments(parser) -> None:
    parser.add_argument("--threads", default="1,2", help="thread counts to measure (default 1,2)")
    parser.add_argument("--cases", default="B1,B2,B3,B4", help="which of B1,B2,B3,B4 (default all)")
    parser.add_argument("--sizes", default=",".join(map(str, WIDE_SIZES)), help="B2 qubit counts")
    parser.add_argument("--grad-sizes", default=",".join(map(str, GRAD_SIZES)), help="B3 qubit counts")
    parser.add_argument("--memory-qubits", type=int, default=MEMORY_QUBITS, help="B4 qubit count (default 20)")
    parser.add_argument("--dtype", default="both",
                        help="precision of every row: complex64, complex128 or both (default both)")
    parser.add_argument("--no-peers", action="store_true", help="measure this engine only")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds of repeats per measurement")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measurements of each row, taken in turns with every other row so that a slow "
                             "spell of the machine slows all simulators alike; a row's median is over all of "
                             "their repeats (default 3)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="device of this engine")
    parser.add_argument("--worker", help=argparse.SUPPRESS)


def _precisions(text: str) -> list[str]:
    """The precisions ``--dtype`` names: complex64, complex128, or both."""
    if text == "both":
        return list(ITEMSIZE)
    if text not in ITEMSIZE:
        raise ValueError(f"--dtype must be complex64, complex128 or both, got {text!r}")
    return [text]


def run(args) -> Report:
    if args.worker:
        _worker(json.loads(args.worker))
        sys.exit(0)
    cases = [c.strip().upper() for c in args.cases.split(",") if c.strip()]
    unknown = set(cases) - {"B1", "B2", "B3", "B4"}
    if unknown:
        raise ValueError(f"unknown cases {sorted(unknown)}; choose from B1, B2, B3, B4")
    if args.device == "cuda":
        import torch
        if not torch.cuda.is_available():
            raise ValueError("--device cuda asked for, but torch sees no CUDA device")
    positive_ints(str(args.memory_qubits), "--memory-qubits")
    config = {"cases": cases, "threads": positive_ints(args.threads, "--threads"),
              "precisions": _precisions(args.dtype), "sizes": positive_ints(args.sizes, "--sizes"),
              "grad_sizes": positive_ints(args.grad_sizes, "--grad-sizes"),
              "peers": not args.no_peers and args.device == "cpu", "budget": args.budget, "device": args.device,
              "rounds": positive_ints(str(args.rounds), "--rounds")[0]}
    report = Report("qml-bench sim: median time per step (ms); 'x ours' = peer median / our median at the "
                    "same precision; 'x floor' = our median / the memory-bandwidth floor", COLUMNS, config=config)
    if args.device == "cuda" and not args.no_peers:
        report.notes.append("--device cuda: the peers run on the CPU, so this engine is measured alone")
    bandwidth = _bandwidths(config) if "B2" in cases else {}
    if bandwidth:
        config["bandwidth_GB_s"] = {t: round(b / 1e9, 2) for t, b in bandwidth.items()}
        report.notes += [_bandwidth_note(bandwidth, args.device), FLOOR_NOTE]
    for threads in config["threads"]:
        for row in _with_floors(_with_ratios(_measure_in_rounds(config, threads)), bandwidth):
            report.add(**row)
    if config["peers"]:
        report.notes.extend(_missing_peers(config, report.rows))
    if "B4" in cases:
        for method in ("adjoint", "autograd"):
            for layers in MEMORY_LAYERS:
                row = _in_subprocess({"mode": "memory", "method": method, "layers": layers,
                                      "device": args.device, "threads": 1, "qubits": args.memory_qubits})
                if "note" in row:
                    report.notes.append(f"B4 {method}, {layers} layers: {row.pop('note')}")
                else:
                    report.notes.append(f"B4 {method}, {layers} layers: process peak "
                                        f"{row.pop('total_peak_MiB')} MiB in all")
                report.add(case="B4", qubits=args.memory_qubits, threads=1, precision="complex64",
                           simulator=f"ours {method}, {layers} layers", **row)
    report.notes.extend(_summary(report.rows))
    return report


def _jobs(config: dict) -> list[list]:
    """[case, qubits, precision, simulator] for every measurement of the run."""
    from benchmarks.sim_peers import B1_WIRES

    sizes = {"B1": [B1_WIRES], "B2": config["sizes"], "B3": config["grad_sizes"]}
    return [[case, n, precision, name] for case in ("B1", "B2", "B3") if case in config["cases"]
            for n in sizes[case] for precision in config["precisions"]
            for name in _simulators(case, precision, config["peers"])]


def _simulators(case: str, precision: str, peers: bool) -> list[str]:
    """Ours, then (with ``peers``) every peer that offers ``precision``, for ``case``."""
    from benchmarks.sim_peers import OURS, PEERS

    offered = [name for name, peer in PEERS[case].items() if precision in peer.precisions]
    return list(OURS[case]) + (offered if peers else [])


def _measure_in_rounds(config: dict, threads: int) -> list[dict]:
    """Every row's repeats from ``config["rounds"]`` turns through all rows (one process per
    measurement: no thread pool or cache carries over), pooled into its median, min and max."""
    pooled: dict[tuple, dict] = {}
    for _ in range(config["rounds"]):
        for job in _jobs(config):
            for row in _in_subprocess({**config, "threads": threads, "mode": "time", "only": job}):
                pooled.setdefault(tuple(job), {**row, "times": []})["times"] += row["times"]
    return [{**{k: v for k, v in row.items() if k != "times"}, **_stats(row["times"])} for row in pooled.values()]


def _stats(times: list[float]) -> dict:
    return {"median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times)}


def _missing_peers(config: dict, rows: list[dict]) -> list[str]:
    """A note naming the peers (and precisions) asked for but not measured (not installed)."""
    asked = {(name, precision) for _, _, precision, name in _jobs(config) if not name.startswith("ours")}
    missing = sorted(asked - {(r["simulator"], r["precision"]) for r in rows})
    if not missing:
        return []
    named = ", ".join(f"{name} ({precision})" for name, precision in missing)
    return [f"not installed, so not measured: {named}; `make bench-peers` installs the peer simulators"]


def _bandwidths(config: dict) -> dict[int, float]:
    """Memory bandwidth (bytes/s) per thread count, each measured in a worker."""
    return {t: _in_subprocess({"mode": "bandwidth", "threads": t, "device": config["device"]})["bytes_per_s"]
            for t in config["threads"]}


def _bandwidth_note(bandwidth: dict[int, float], device: str) -> str:
    per_threads = ", ".join(f"{b / 1e9:.1f} GB/s at {t} thread{'s' * (t > 1)}" for t, b in bandwidth.items())
    return (f"memory bandwidth ({device}, dst.copy_(src) of {COPY_BYTES >> 20} MiB, bytes = 2 x size, median): "
            f"{per_threads}")


def _in_subprocess(task: dict) -> list | dict:
    return in_subprocess("sim", task, task["threads"], memory=task["mode"] == "memory")


def _worker(task: dict) -> None:
    import torch

    torch.set_num_threads(task["threads"])
    modes = {"memory": _memory, "bandwidth": _bandwidth, "time": _timings}
    send_result(modes[task["mode"]](task))


def _time(step, budget: float, sync) -> dict:
    step()  # warm-up (caches, plans)
    sync()
    times = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget and len(times) < 50):
        t0 = time.perf_counter()
        step()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    return {**_stats(times), "times": times}


def _sync(device: str):
    import torch

    return torch.cuda.synchronize if device == "cuda" else (lambda: None)


def _timings(task: dict) -> list[dict]:
    """The row of the one measurement ``task["only"]`` names; none when that peer is not installed."""
    from benchmarks.sim_peers import OURS, PEERS

    case, n, precision, name = task["only"]
    ours = name.startswith("ours")
    try:
        step = OURS[case][name](n, precision, task["device"]) if ours else \
            PEERS[case][name].build(n, task["threads"], precision)
    except ImportError:
        return []
    if step.precision != precision:
        raise RuntimeError(f"{name} runs at {step.precision}, but its row is {precision}")
    row = _time(step, task["budget"], _sync(task["device"]) if ours else (lambda: None))
    print(f"{case} n={n} t={task['threads']} {precision} {name}: {row['median_ms']:.3f} ms", file=sys.stderr,
          flush=True)
    return [{"case": case, "qubits": n, "threads": task["threads"], "precision": precision, "simulator": name,
             **row}]


def _bandwidth(task: dict) -> dict:
    """Bytes per second that ``dst.copy_(src)`` moves (read + write = 2 x size), median of repeats."""
    import torch

    src = torch.ones(COPY_BYTES // 4, dtype=torch.float32, device=task["device"])
    dst = torch.empty_like(src)
    median_ms = _time(lambda: dst.copy_(src), COPY_BUDGET, _sync(task["device"]))["median_ms"]
    return {"bytes_per_s": 2 * COPY_BYTES / (median_ms / 1e3)}


def _memory(task: dict) -> dict:
    """Peak resident memory (MiB) of one gradient step above the memory before it.

    A first step compiles the circuit's plan (kept, like the circuit itself); then the
    kernel's peak-RSS mark is reset and a second step is measured. The process's total
    peak is reported beside it.
    """
    from benchmarks.sim_peers import LAYERS
    import benchmarks.sim_peers as peers

    peers.LAYERS = task["layers"]
    n = task["qubits"]
    state_mib = 2 ** n * 8 / 2 ** 20
    steps_per_layer = n + 1
    if task["method"] == "autograd" and task["layers"] * steps_per_layer * state_mib * 2.5 > _available_mib() / 2:
        need = task["layers"] * steps_per_layer * state_mib * 2.5
        return {"peak_MiB": None, "median_ms": None,
                "note": f"not run: autograd would keep about {need / 1024:.0f} GiB of states"}
    step = peers.ours_b3(n, task["method"], task["device"])
    step()
    before = reset_peak()
    t0 = time.perf_counter()
    step()
    elapsed = (time.perf_counter() - t0) * 1e3
    peers.LAYERS = LAYERS
    return {"peak_MiB": round(status_mib("VmHWM") - before, 1), "median_ms": elapsed,
            "total_peak_MiB": round(status_mib("VmHWM"), 1)}


def _available_mib() -> float:
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


VARIANT = "ours ("


def _key(row: dict) -> tuple:
    """What rows compared with each other share: case, size, threads and precision."""
    return row["case"], row["qubits"], row["threads"], row["precision"]


def _with_ratios(rows: list[dict]) -> list[dict]:
    """Each peer row gets 'x ours': its median over our best of the same key (precision included)."""
    ours = {}
    for r in rows:
        if _ours(r) and not _variant(r):
            ours[_key(r)] = min(ours.get(_key(r), float("inf")), r["median_ms"])
    for r in rows:
        if (not _ours(r) or _variant(r)) and _key(r) in ours:
            r["x ours"] = r["median_ms"] / ours[_key(r)]
    return rows


def _passes(circuit) -> int:
    """Passes over the state ``circuit`` needs at the fewest: our compiled plan's steps, plus
    one for writing the initial product state and reading the expectation."""
    from qml.sim.plan import plan_for

    _, steps = plan_for(circuit).compiled(False, True)
    return len(steps) + 1


def _b2_passes(n: int) -> int:
    """Passes at the fewest of B2 at ``n`` qubits."""
    from benchmarks.sim_peers import wide_circuit

    return _passes(wide_circuit(n, trainable=False))


def _floor_ms(qubits: int, precision: str, passes: int, bytes_per_s: float) -> float:
    """Milliseconds to read and write a ``qubits`` state of ``precision`` ``passes`` times."""
    return passes * 2 * 2 ** qubits * ITEMSIZE[precision] / bytes_per_s * 1e3


def _with_floors(rows: list[dict], bandwidth: dict[int, float], passes=_b2_passes) -> list[dict]:
    """Each B2 row gets 'floor_ms' (``bandwidth``: bytes/s per thread count; ``passes(n)``), ours 'x floor'."""
    counted = {}
    for r in rows:
        if r["case"] == "B2" and r["threads"] in bandwidth:
            if r["qubits"] not in counted:
                counted[r["qubits"]] = passes(r["qubits"])
            r["floor_ms"] = _floor_ms(r["qubits"], r["precision"], counted[r["qubits"]], bandwidth[r["threads"]])
            if _ours(r):
                r["x floor"] = r["median_ms"] / r["floor_ms"]
    return rows


def _summary(rows: list[dict]) -> list[str]:
    """One line per (case, size, threads, precision): our best against the fastest peer at that
    precision, and for B2 our multiple of the floor."""
    keys = sorted({_key(r) for r in rows if r["case"] != "B4"}, key=lambda k: (*k[:3], ITEMSIZE[k[3]]))
    lines = [_summary_line(key, [r for r in rows if _key(r) == key]) for key in keys]
    return [line for line in lines if line]


def _summary_line(key: tuple, group: list[dict]) -> str:
    """The summary of one key's rows; empty when there is neither a peer nor a floor to compare with."""
    ours = [r for r in group if _ours(r) and not _variant(r)]
    others = [r for r in group if not _ours(r)]
    if not ours:
        return ""
    best_ours = min(ours, key=lambda r: r["median_ms"])
    floor = f" ({best_ours['x floor']:.2f}x the floor {best_ours['floor_ms']:.3g} ms)" if "x floor" in best_ours else ""
    peer = ""
    if others:
        best = min(others, key=lambda r: r["median_ms"])
        peer = (f" vs fastest peer {best['simulator']} {best['median_ms']:.3g} ms -> "
                f"{best['median_ms'] / best_ours['median_ms']:.2f}x")
    variants = "".join(f"; {r['simulator'][len(VARIANT):-1]} {r['median_ms'] / best_ours['median_ms']:.3f}x"
                       for r in group if _variant(r))
    if not floor and not peer and not variants:
        return ""
    return f"{key[0]} n={key[1]} threads={key[2]} {key[3]}: ours {best_ours['median_ms']:.3g} ms{floor}{peer}{variants}"


def _ours(row: dict) -> bool:
    return row["simulator"].startswith("ours")


def _variant(row: dict) -> bool:
    """Our engine on the same circuit another way (imported from qiskit, in grad mode): compared
    with our plain row, never counted as our time."""
    return row["simulator"].startswith(VARIANT)


def engine_check(n_wires: int = 10, n_params: int = 60, seed: int = 0) -> list[str]:
    """Build a random circuit, simulate it, check it against qiskit's Statevector, time both.

    Returns the lines to print; raises ``RuntimeError`` when the states disagree.
    """
    import math

    import numpy as np
    import torch
    from qiskit.quantum_info import Statevector

    import qml
    from qml.interop import qiskit_state
    from qml.layers import random_circuit

    circuit = random_circuit(n_wires, n_params, seed)
    gen = torch.Generator().manual_seed(seed)
    values = torch.rand(len(circuit.parameters), dtype=torch.float64, generator=gen) * 2 * math.pi
    qc = circuit.bind(values).to_qiskit()
    ours = qml.simulate(circuit, values, dtype=torch.complex128)[0].numpy()
    error = float(np.abs(ours - qiskit_state(Statevector(qc).data)).max())
    if error > 1e-10:
        raise RuntimeError(f"the engine disagrees with qiskit by {error:.2e} on a random circuit")
    with torch.no_grad():
        t_ours = _time(lambda: qml.simulate(circuit, values, dtype=torch.complex128), 0.3, lambda: None)
    t_qiskit = _time(lambda: Statevector(qc), 0.3, lambda: None)
    return [f"engine check: random {n_wires}-qubit circuit, {len(circuit.gates)} gates, {n_params} parameters "
            f"({', '.join(sorted(circuit.count_ops()))})",
            f"  state equals qiskit's Statevector: max |difference| {error:.1e} (complex128)",
            f"  simulate {t_ours['median_ms']:.3f} ms, qiskit Statevector {t_qiskit['median_ms']:.3f} ms (medians)"]
