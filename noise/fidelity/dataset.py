"""QuEst data sets: circuits on scaled devices, labelled with their PST, as JSON lines.

:func:`generate` plans ``n`` circuits from a seed (which device, which noise scale, which
circuit), groups the circuits that share a device and a scale into batches, and labels each
batch as one Aer job on a worker of a ``concurrent.futures.Executor`` (a process pool by
default). Records are appended to the data set file as batches finish, behind a progress bar;
after a kill, running :func:`generate` again on the same file skips every circuit already
written (a half-written last line is dropped and redone) and adds the rest.

File format (``.jsonl``, text only: loading never executes code):

- line 1, the header: ``{"format": "qml-quest-dataset", "version": 1, "config": {...},
  "versions": {library: version}, "devices": {name: Device.to_json() record}, "scaling":
  text}``; the device records are the calibrations the circuits ran under before scaling;
- one line per circuit: ``{"id", "kind" ("random" | "algorithm" | "qasm"), "family",
  "device", "scale", "width", "qubits", "ops": [[gate, [qubits], [params]], ...] (the physical
  circuit), "pst", "pst_se" (shot noise), "shots"}``.

Noise scales: :meth:`noise.devices.Device.scaled` multiplies gate and readout errors by the
factor and divides T1 and T2 by it. Random circuits take factors from 0.5 to 1.5 (steps of
0.1), algorithm and QASM circuits powers of two from 1/8 to 64 (steps of sqrt(2)); a grid, so
that many circuits share a device and a scale and run as one Aer job.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.jsonl"
>>> stats = generate(path, devices=["lima"], kind="random", n=3, shots=256, max_gates=30,
...                  executor="serial", progress=False)
>>> stats["labelled"], len(load(path).records)
(3, 3)
"""

from __future__ import annotations

import functools
import json
import os
import time
import zlib
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from qml.circuit import Circuit
from qml.files import atomic_write_text

FORMAT, VERSION = "qml-quest-dataset", 1
DEFAULT_DEVICES = ("jakarta", "santiago", "lima", "quito", "manila")
KINDS = ("random", "algorithm", "qasm", "mixed")
RANDOM_SCALES = tuple(round(0.5 + 0.1 * k, 2) for k in range(11))
ALGORITHM_SCALES = tuple(2.0 ** (k / 2) for k in range(-6, 13))
SCALING = ("Device.scaled(f): gate errors and readout probabilities multiplied by f (clipped), "
           "T1 and T2 divided by f")


@dataclass
class DataSet:
    """A loaded data set: its header and its records (dicts, in file order)."""

    header: dict
    records: list[dict]
    path: str = ""

    def device(self, name: str, scale: float):
        """The scaled Device a record ran under (built from the header's calibration)."""
        return _device_from_record(json.dumps(self.header["devices"][name]), float(scale))

    def circuit(self, record: dict) -> Circuit:
        """The physical circuit of ``record`` (wires = the device's qubits)."""
        n = self.header["devices"][record["device"]]["n_qubits"]
        return circuit_from_ops(record["ops"], n)


def circuit_from_ops(ops, n_wires: int) -> Circuit:
    c = Circuit(n_wires)
    for name, wires, params in ops:
        c.append(name, wires, params)
    return c


def ops_of(circuit: Circuit) -> list:
    return [[op.name, list(op.wires), [float(p) for p in op.params]] for op in circuit.gates]


@functools.lru_cache(maxsize=64)
def _device_from_record(record_json: str, scale: float):
    from noise.devices import Device

    base = Device.from_json(record_json)
    return base if scale == 1.0 else base.scaled(scale)


@functools.lru_cache(maxsize=64)
def _named_device(name: str, scale: float):
    from noise.devices import Device

    base = Device.from_name(name)
    return base if scale == 1.0 else base.scaled(scale)


# ---------------------------------------------------------------------- planning


def plan(devices: Sequence[str], kind: str, n: int, seed: int, max_gates: int = 500,
         qasm: Sequence[tuple[str, str]] = ()) -> list[dict]:
    """The circuits to generate: one spec (plain data) per circuit, deterministic in ``seed``.

    ``kind`` "random", "algorithm", "qasm" (the ``qasm`` files, name and text, each on every
    device) or "mixed" (half random, half algorithm).
    """
    from noise.fidelity.circuits import FAMILIES, MAX_ALGORITHM_QUBITS

    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    if kind == "qasm" and not qasm:
        raise ValueError("kind 'qasm' needs QASM files (--qasm FILE ...)")
    sizes = {name: _named_device(name, 1.0).n_qubits for name in devices}
    specs = []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        this = kind if kind != "mixed" else ("random" if i % 2 == 0 else "algorithm")
        if this == "qasm":
            fname, text = qasm[i % len(qasm)]
            device = devices[(i // len(qasm)) % len(devices)]
            spec = {"kind": "qasm", "family": fname, "qasm": text,
                    "scale": float(rng.choice(ALGORITHM_SCALES))}
        elif this == "random":
            device = devices[int(rng.integers(len(devices)))]
            spec = {"kind": "random", "family": "random", "width": int(rng.integers(1, min(5, sizes[device]) + 1)),
                    "gates": int(rng.integers(10, max_gates + 1)), "scale": float(rng.choice(RANDOM_SCALES))}
        else:
            device = devices[int(rng.integers(len(devices)))]
            family = list(FAMILIES)[int(rng.integers(len(FAMILIES)))]
            low = FAMILIES[family][1]
            high = min(MAX_ALGORITHM_QUBITS, sizes[device])
            spec = {"kind": "algorithm", "family": family, "width": int(rng.integers(low, high + 1)),
                    "scale": float(rng.choice(ALGORITHM_SCALES))}
        spec.update(id=i, device=device, seed=int(rng.integers(2 ** 31)))
        specs.append(spec)
    return specs


def batches(specs: Iterable[dict], size: int) -> list[list[dict]]:
    """Specs grouped by (device, scale), in chunks of at most ``size`` (ordered by first id)."""
    groups: dict[tuple, list[dict]] = {}
    for s in specs:
        groups.setdefault((s["device"], s["scale"]), []).append(s)
    out = [g[k:k + size] for g in groups.values() for k in range(0, len(g), size)]
    return sorted(out, key=lambda b: b[0]["id"])


def build_circuit(spec: dict, device) -> Circuit:
    """The physical circuit of ``spec`` on (unscaled or scaled) ``device``."""
    from noise.fidelity.circuits import algorithm_circuit, random_circuit
    from noise.fidelity.label import compile_for

    if spec["kind"] == "random":
        return random_circuit(device, spec["width"], spec["gates"], seed=spec["seed"])
    if spec["kind"] == "algorithm":
        return compile_for(algorithm_circuit(spec["family"], spec["width"], seed=spec["seed"]), device,
                           seed=spec["seed"])
    return compile_for(Circuit.from_qasm(spec["qasm"]), device, seed=spec["seed"])


def label_batch(specs: list[dict], shots: int, seed: int) -> list[dict]:
    """Build and label one batch (one device, one scale) as one Aer job; the records.

    A picklable function of plain data: the executor's task.
    """
    from noise.fidelity.label import pst, shot_noise, used_qubits

    device = _named_device(specs[0]["device"], specs[0]["scale"])
    circuits = [build_circuit(s, device) for s in specs]
    batch_seed = zlib.crc32(f"{seed}:{specs[0]['id']}".encode())
    start = time.perf_counter()
    values = pst(circuits, device, shots=shots, seed=batch_seed)
    aer_s = (time.perf_counter() - start) / len(circuits)
    records = []
    for s, c, p in zip(specs, circuits, values):
        qubits = used_qubits(c)
        records.append({"id": s["id"], "kind": s["kind"], "family": s["family"], "device": s["device"],
                        "scale": s["scale"], "width": len(qubits), "qubits": list(qubits), "gates": len(c.gates),
                        "ops": ops_of(c), "pst": float(p), "pst_se": float(shot_noise(p, shots)),
                        "shots": shots, "aer_s": aer_s})
    return records


# ---------------------------------------------------------------------- generation


def _versions() -> dict:
    from importlib import metadata

    out = {}
    for name in ("qml-toolkit", "qiskit", "qiskit-aer", "qiskit-ibm-runtime", "numpy", "torch"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def _read(path: Path) -> tuple[dict, list[dict], int]:
    """Header, complete records and the byte length of the complete part of ``path``."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    try:
        header = json.loads(lines[0])
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError(f"{path} is not a QuEst data set: its first line is not a JSON header") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path} is not a QuEst data set (format {FORMAT!r} expected)")
    if header.get("version") != VERSION:
        raise ValueError(f"{path} is a version-{header.get('version')} QuEst data set; this code reads "
                         f"version {VERSION}")
    records, good = [], len(lines[0]) + 1
    for k, line in enumerate(lines[1:], start=2):
        if not line.strip():
            good += len(line) + 1
            continue
        try:
            records.append(json.loads(line))
        except (json.JSONDecodeError, UnicodeDecodeError):
            if k == len(lines):  # a half-written last line (killed mid-write): dropped, redone
                break
            raise ValueError(f"{path} line {k} is not JSON: the data set is corrupt") from None
        good += len(line) + 1
    return header, records, min(good, len(data))


def load(path: str | os.PathLike) -> DataSet:
    """The data set at ``path`` (header and records); a clear error if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"data set {path} does not exist")
    header, records, _ = _read(path)
    return DataSet(header, records, str(path))


def _make_executor(executor, workers: int | None):
    if executor is None or executor == "process":
        return ProcessPoolExecutor(max_workers=workers), True
    if executor == "serial":
        return None, False
    if isinstance(executor, str) and executor.startswith("dask"):
        from distributed import Client  # optional dependency

        client = Client() if executor == "dask-local" else Client(executor[len("dask://"):])
        return client.get_executor(), True
    if isinstance(executor, Executor):
        return executor, False
    raise ValueError(f"executor must be 'process', 'serial', 'dask-local', 'dask://host:port' or a "
                     f"concurrent.futures.Executor, got {executor!r}")


def generate(path: str | os.PathLike, devices: Sequence[str] = DEFAULT_DEVICES, kind: str = "random",
             n: int = 100, seed: int = 0, shots: int = 2048, batch_size: int = 16, max_gates: int = 500,
             qasm: Sequence[tuple[str, str]] = (), executor: Any = None, workers: int | None = None,
             progress: bool = True) -> dict:
    """Generate (or complete) the data set at ``path``; a dict of counts.

    An existing file is resumed when its config matches (a larger ``n`` extends it); a file
    made with other settings is an error. ``executor``: None / "process" (a process pool of
    ``workers``), "serial" (in this process), "dask-local", "dask://host:port", or any
    ``concurrent.futures.Executor`` (left open).
    """
    from noise.devices import Device

    path = Path(path)
    if shots < 1 or n < 0 or batch_size < 1:
        raise ValueError(f"shots and batch_size must be positive and n >= 0, got {shots}, {batch_size}, {n}")
    if not 10 <= max_gates:
        raise ValueError(f"max_gates must be at least 10, got {max_gates}")
    devices = [Device.from_name(d).name for d in devices]  # unknown names: a clear error
    config = {"devices": devices, "kind": kind, "seed": seed, "shots": shots, "max_gates": max_gates,
              "qasm": [name for name, _ in qasm]}
    specs = plan(devices, kind, n, seed, max_gates, qasm)
    done: set[int] = set()
    if path.exists():
        header, records, good = _read(path)
        if header["config"] != config:
            raise ValueError(f"{path} was generated with {header['config']}, not {config}; use another file")
        if good < path.stat().st_size:
            with open(path, "r+b") as f:  # drop the half-written last line
                f.truncate(good)
        done = {r["id"] for r in records}
    else:
        header = {"format": FORMAT, "version": VERSION, "config": config, "versions": _versions(),
                  "devices": {d: json.loads(Device.from_name(d).to_json()) for d in devices}, "scaling": SCALING}
        atomic_write_text(path, json.dumps(header) + "\n")
    todo = [s for s in specs if s["id"] not in done]
    work = batches(todo, batch_size)
    pool, owned = _make_executor(executor, workers)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(specs), initial=len(specs) - len(todo), desc=f"quest gen {path.name}", unit="circuit")
    labelled = 0
    try:
        with open(path, "a") as out:
            if pool is None:
                results = (label_batch(b, shots, seed) for b in work)
            else:
                futures = [pool.submit(label_batch, b, shots, seed) for b in work]
                results = (f.result() for f in as_completed(futures))
            for records in results:
                out.write("".join(json.dumps(r) + "\n" for r in records))
                out.flush()
                os.fsync(out.fileno())
                labelled += len(records)
                if bar is not None:
                    bar.update(len(records))
    finally:
        if bar is not None:
            bar.close()
        if owned and pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
    return {"planned": len(specs), "done_before": len(specs) - len(todo), "labelled": labelled,
            "batches": len(work)}


__all__ = ["ALGORITHM_SCALES", "DEFAULT_DEVICES", "DataSet", "KINDS", "RANDOM_SCALES", "batches",
           "build_circuit", "circuit_from_ops", "generate", "label_batch", "load", "plan"]
