"""Measurements in fresh worker processes, shared by ``qml-bench sim`` and ``qml-bench depth``.

A command's worker is the command itself run as ``python -m benchmarks.cli COMMAND --worker
TASK`` (TASK a JSON object): its thread counts are set in the environment before anything is
imported, it prints its result as one ``RESULT <json>`` line (:func:`send_result`), and bad input
in it is the CLI's usual one-line error, raised again here as a ValueError.

Peak memory: :func:`reset_peak` resets the kernel's peak-RSS mark (VmHWM) to the current RSS, so
that ``status_mib("VmHWM") - reset_peak()`` around a step is the step's own peak. With
``memory=True`` the worker runs with glibc's mmap threshold fixed, so that freed buffers go back
to the OS at once and the RSS shows live memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

MMAP_THRESHOLD = 1 << 17  # glibc would otherwise raise it and keep freed state buffers
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "QULACS_NUM_THREADS")
RESULT = "RESULT "


def positive_ints(text: str, what: str) -> list[int]:
    """The comma-separated positive integers in ``text``; a ValueError naming ``what`` otherwise.

    Example:
        >>> positive_ints("100,300", "--params")
        [100, 300]
    """
    try:
        values = [int(v) for v in text.split(",") if v]
    except ValueError:
        raise ValueError(f"{what} must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise ValueError(f"{what} must be positive integers, got {text!r}")
    return values


def in_subprocess(command: str, task: dict, threads: int, memory: bool = False) -> list | dict:
    """What ``qml-bench COMMAND --worker TASK`` sends back, run in a fresh process on ``threads``
    threads (``memory``: with the mmap threshold fixed)."""
    env = {**os.environ, **{v: str(threads) for v in THREAD_VARS}}
    if memory:
        env["MALLOC_MMAP_THRESHOLD_"] = str(MMAP_THRESHOLD)
    cmd = [sys.executable, "-m", "benchmarks.cli", command, "--worker", json.dumps(task)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
    error = f"qml-bench {command}: error: "  # how benchmarks.cli reports bad input, in the worker too
    refused = [line for line in done.stderr.splitlines() if line.startswith(error)]
    if done.returncode == 2 and refused:  # the worker's clean message about bad input, as it is
        raise ValueError(refused[-1][len(error):])
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark worker failed ({task}):\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len(RESULT):])


def send_result(result: list | dict) -> None:
    """Print ``result`` as the worker's answer to :func:`in_subprocess`."""
    print(RESULT + json.dumps(result), flush=True)


def reset_peak() -> float:
    """Reset this process's peak-RSS mark (VmHWM) to its current RSS; the new mark, in MiB.

    The mark, not ``VmRSS`` read a moment later: the peak of what follows is never below it.
    """
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return status_mib("VmHWM")


def status_mib(field: str) -> float:
    """A memory field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``, ...) in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")
