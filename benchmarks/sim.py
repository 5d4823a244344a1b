"""``qml-bench sim``: simulator speed (B1-B3) and memory (B4) beside every importable peer.

Every measurement (case, size, simulator, thread count) runs in its own worker process,
with the OpenMP/BLAS thread counts set before anything is imported: every simulator gets
the same threads, and no thread pool (spinning OpenMP workers) or cache of another
simulator is left behind. Timings are
medians (with min-max) of repeated runs after a warm-up; the ``x ours`` column is the
peer's median over ours (above 1: we are faster). B4 measures the peak resident memory
of a gradient step above the memory before it, in a fresh process per setting, with
glibc's mmap threshold fixed so that freed buffers are returned at once.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from benchmarks.report import Report

WIDE_SIZES = (10, 12, 14, 16, 18, 20, 22)
GRAD_SIZES = (12, 16)
MEMORY_LAYERS = (10, 100)
MEMORY_QUBITS = 20
MMAP_THRESHOLD = 1 << 17  # glibc would otherwise raise it and keep freed state buffers
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "QULACS_NUM_THREADS")
WORKER_ERROR = "qml-bench sim: error: "  # how benchmarks.cli reports bad input, in the worker too


def add_arguments(parser) -> None:
    parser.add_argument("--threads", default="1,2", help="thread counts to measure (default 1,2)")
    parser.add_argument("--cases", default="B1,B2,B3,B4", help="which of B1,B2,B3,B4 (default all)")
    parser.add_argument("--sizes", default=",".join(map(str, WIDE_SIZES)), help="B2 qubit counts")
    parser.add_argument("--grad-sizes", default=",".join(map(str, GRAD_SIZES)), help="B3 qubit counts")
    parser.add_argument("--memory-qubits", type=int, default=MEMORY_QUBITS, help="B4 qubit count (default 20)")
    parser.add_argument("--no-peers", action="store_true", help="measure this engine only")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds of repeats per measurement")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="device of this engine")
    parser.add_argument("--worker", help=argparse.SUPPRESS)


def _ints(text: str, what: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v]
    except ValueError:
        raise ValueError(f"{what} must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise ValueError(f"{what} must be positive integers, got {text!r}")
    return values


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
    _ints(str(args.memory_qubits), "--memory-qubits")
    config = {"cases": cases, "threads": _ints(args.threads, "--threads"),
              "sizes": _ints(args.sizes, "--sizes"), "grad_sizes": _ints(args.grad_sizes, "--grad-sizes"),
              "peers": not args.no_peers, "budget": args.budget, "device": args.device}
    report = Report("qml-bench sim: median time per step (ms); 'x ours' = peer median / our median",
                    ["case", "qubits", "threads", "simulator", "median_ms", "min_ms", "max_ms", "x ours",
                     "peak_MiB"], config=config)
    for threads in config["threads"]:
        rows = []
        for job in _jobs(config):  # one process each: no thread pool or cache carries over
            rows += _in_subprocess({**config, "threads": threads, "mode": "time", "only": job})
        for row in _with_ratios(rows):
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
                report.add(case="B4", qubits=args.memory_qubits, threads=1, simulator=f"ours {method}, {layers} layers",
                           **row)
    report.notes.extend(_summary(report.rows))
    return report


def _jobs(config: dict) -> list[list]:
    """[case, qubits, simulator] for every measurement of the run."""
    from benchmarks.sim_peers import B1_WIRES, PEERS

    sizes = {"B1": [B1_WIRES], "B2": config["sizes"], "B3": config["grad_sizes"]}
    ours = {"B1": ["ours autograd", "ours adjoint"], "B2": ["ours"], "B3": ["ours adjoint", "ours autograd"]}
    return [[case, n, name] for case in ("B1", "B2", "B3") if case in config["cases"] for n in sizes[case]
            for name in ours[case] + (list(PEERS[case]) if config["peers"] else [])]


def _missing_peers(config: dict, rows: list[dict]) -> list[str]:
    """A note naming the peers that were asked for but not measured (not installed)."""
    asked = {name for _, _, name in _jobs(config) if not name.startswith("ours")}
    missing = sorted(asked - {r["simulator"] for r in rows})
    if not missing:
        return []
    return [f"not installed, so not measured: {', '.join(missing)}; `make bench-peers` installs the peer "
            f"simulators"]


def _in_subprocess(task: dict) -> list | dict:
    env = {**os.environ, **{v: str(task["threads"]) for v in THREAD_VARS}}
    if task["mode"] == "memory":  # freed states go back to the OS at once: RSS shows live memory
        env["MALLOC_MMAP_THRESHOLD_"] = str(MMAP_THRESHOLD)
    cmd = [sys.executable, "-m", "benchmarks.cli", "sim", "--worker", json.dumps(task)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    refused = [line for line in done.stderr.splitlines() if line.startswith(WORKER_ERROR)]
    if done.returncode == 2 and refused:  # the worker's clean message about bad input, as it is
        raise ValueError(refused[-1][len(WORKER_ERROR):])
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark worker failed ({task}):\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def _worker(task: dict) -> None:
    import torch

    torch.set_num_threads(task["threads"])
    result = _memory(task) if task["mode"] == "memory" else _timings(task)
    print("RESULT " + json.dumps(result), flush=True)


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
    return {"median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times)}


def _timings(task: dict) -> list[dict]:
    import torch

    from benchmarks import sim_peers as peers

    device = task["device"]
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    rows = []

    def measure(case, n, name, build, our=False):
        if task.get("only") and task["only"] != [case, n, name]:
            return
        try:
            step = build()
        except ImportError:
            return
        row = _time(step, task["budget"], sync if our else (lambda: None))
        rows.append({"case": case, "qubits": n, "threads": task["threads"], "simulator": name, **row})
        print(f"{case} n={n} t={task['threads']} {name}: {row['median_ms']:.3f} ms", file=sys.stderr, flush=True)

    plan = []
    if "B1" in task["cases"]:
        plan.append(("B1", [peers.B1_WIRES]))
    if "B2" in task["cases"]:
        plan.append(("B2", task["sizes"]))
    if "B3" in task["cases"]:
        plan.append(("B3", task["grad_sizes"]))
    for case, sizes in plan:
        for n in sizes:
            if case == "B1":
                for g in ("autograd", "adjoint"):
                    measure(case, n, f"ours {g}", lambda: peers.ours_b1(g, device), our=True)
            elif case == "B2":
                measure(case, n, "ours", lambda: peers.ours_b2(n, device), our=True)
            else:
                for g in ("adjoint", "autograd"):
                    measure(case, n, f"ours {g}", lambda: peers.ours_b3(n, g, device), our=True)
            if task["peers"]:
                for name, build in peers.PEERS[case].items():
                    measure(case, n, name, lambda: build(n, task["threads"]))
    return rows


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
    with open("/proc/self/clear_refs", "w") as f:  # reset VmHWM to the current RSS
        f.write("5")
    before = _status_mib("VmRSS")
    t0 = time.perf_counter()
    step()
    elapsed = (time.perf_counter() - t0) * 1e3
    peers.LAYERS = LAYERS
    return {"peak_MiB": round(_status_mib("VmHWM") - before, 1), "median_ms": elapsed,
            "total_peak_MiB": round(_status_mib("VmHWM"), 1)}


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def _available_mib() -> float:
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def _with_ratios(rows: list[dict]) -> list[dict]:
    ours = {}
    for r in rows:
        if r["simulator"].startswith("ours"):
            key = (r["case"], r["qubits"])
            ours[key] = min(ours.get(key, float("inf")), r["median_ms"])
    for r in rows:
        if not r["simulator"].startswith("ours") and (r["case"], r["qubits"]) in ours:
            r["x ours"] = r["median_ms"] / ours[(r["case"], r["qubits"])]
    return rows


def _summary(rows: list[dict]) -> list[str]:
    """One line per (case, size, threads): our best against the fastest peer."""
    lines = []
    keys = sorted({(r["case"], r["qubits"], r["threads"]) for r in rows if r["case"] != "B4"})
    for case, n, t in keys:
        group = [r for r in rows if (r["case"], r["qubits"], r["threads"]) == (case, n, t)]
        ours = min((r for r in group if r["simulator"].startswith("ours")), key=lambda r: r["median_ms"])
        others = [r for r in group if not r["simulator"].startswith("ours")]
        if others:
            best = min(others, key=lambda r: r["median_ms"])
            lines.append(f"{case} n={n} threads={t}: ours {ours['median_ms']:.3g} ms vs fastest peer "
                         f"{best['simulator']} {best['median_ms']:.3g} ms -> {best['median_ms'] / ours['median_ms']:.2f}x")
    return lines


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
