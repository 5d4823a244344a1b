"""Logical error rates of several decoders on the same sampled shots, with 95% intervals.

>>> from qec.codes import surface_code
>>> from qec.decoders.mwpm import MWPMDecoder
>>> circuit = surface_code(3, 0.003)
>>> res = logical_error_rates(circuit, {"mwpm": MWPMDecoder.from_circuit(circuit)}, shots=20000, seed=1)
>>> r = res["mwpm"]
>>> r.shots, r.ci_low <= r.ler <= r.ci_high
(20000, True)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import stim
from tqdm.auto import tqdm

from qec.codes import check_circuit
from qec.decoders.base import Decoder


@dataclass
class LERResult:
    errors: int = 0
    shots: int = 0
    decode_s: float = 0.0

    @property
    def ler(self) -> float:
        return self.errors / self.shots if self.shots else float("nan")

    @property
    def ci_low(self) -> float:
        return wilson_interval(self.errors, self.shots)[0]

    @property
    def ci_high(self) -> float:
        return wilson_interval(self.errors, self.shots)[1]

    @property
    def shots_per_s(self) -> float:
        return self.shots / self.decode_s if self.decode_s > 0 else float("inf")


Z95 = 1.959963984540054  # the two-sided 95% quantile of the standard normal


def wilson_interval(errors: int, shots: int, z: float = Z95) -> tuple[float, float]:
    """The 95% Wilson score interval of a binomial rate ``errors / shots``.

    >>> lo, hi = wilson_interval(10, 1000)
    >>> round(lo, 4), round(hi, 4)
    (0.0054, 0.0183)
    """
    if shots <= 0:
        return float("nan"), float("nan")
    rate = errors / shots
    denom = 1 + z * z / shots
    centre = (rate + z * z / (2 * shots)) / denom
    half = z * math.sqrt(rate * (1 - rate) / shots + z * z / (4 * shots * shots)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def logical_error_rates(circuit: stim.Circuit, decoders: dict[str, Decoder], shots: int, seed: int = 0,
                        batch_size: int = 100_000, max_errors: int | None = None,
                        progress: bool = False) -> dict[str, LERResult]:
    """Sample ``shots`` shots of ``circuit`` (in batches, seeded) and decode each batch with every
    decoder; a shot fails when any predicted observable flip is wrong.  With ``max_errors``,
    stop after the batch where every decoder has reached that many errors.  ``decode_s`` is
    the time spent in ``decode_batch`` only."""
    check_circuit(circuit)
    if shots < 1:
        raise ValueError(f"shots must be >= 1, got {shots}")
    sampler = circuit.compile_detector_sampler(seed=seed)
    results = {name: LERResult() for name in decoders}
    done = 0
    with tqdm(total=shots, disable=not progress, desc="shots", leave=False) as bar:
        while done < shots:
            n = min(batch_size, shots - done)
            dets, obs = sampler.sample(n, separate_observables=True)
            for name, decoder in decoders.items():
                start = time.perf_counter()
                flips = decoder.decode_batch(dets)
                results[name].decode_s += time.perf_counter() - start
                results[name].errors += int(np.any(flips != obs, axis=1).sum())
                results[name].shots += n
            done += n
            bar.update(n)
            if max_errors is not None and all(r.errors >= max_errors for r in results.values()):
                break
    return results
