"""Logical error rates far below where direct sampling sees failures, by stratifying on the number of faults.

When every noise location of a circuit is a single-qubit Pauli channel with the same total rate
``p`` (``X_ERROR``, ``Y_ERROR``, ``Z_ERROR``, ``DEPOLARIZE1``: code-capacity and phenomenological
noise), the number of faulty locations ``W`` is binomial ``(n, p)``, and given ``W = w`` the faults
sit at ``w`` distinct locations drawn uniformly, each with one of its channel's Paulis.  So

    LER(p) = sum_w P(W = w) f(w),

where ``f(w)`` is the decoder's failure rate on ``w`` random faults.  Each ``f(w)`` is measured
once, exhaustively when its stratum is small and on random fault patterns otherwise, which
reaches logical error rates of 1e-10 with a few million decodes.  The interval is the
normal one over the strata (1.96 standard errors), widened on the high side by the probability
of the weights beyond the last stratum.

>>> from qec.codes import surface_code
>>> from qec.decoders.mwpm import MWPMDecoder
>>> circuit = surface_code(3, 0.001, noise="code-capacity")
>>> r = stratified_logical_error_rates(circuit, {"mwpm": MWPMDecoder.from_circuit(circuit)})["mwpm"]
>>> r.exhaustive, f"{r.ler:.3e}"  # 9 qubits: every fault pattern is enumerated, so the rate is exact
(True, '7.979e-06')
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np
import stim
from tqdm.auto import tqdm

from qec.codes import check_circuit
from qec.decoders.base import Decoder
from qec.evaluate import Z95

CHANNELS = {"X_ERROR": "X", "Y_ERROR": "Y", "Z_ERROR": "Z", "DEPOLARIZE1": "XYZ"}


@dataclass
class StratifiedResult:
    ler: float
    ci_low: float
    ci_high: float
    patterns: int        # fault patterns decoded
    failures: int        # of those, the ones decoded wrongly
    exhaustive: bool     # every stratum was enumerated: ``ler`` is exact up to the truncated tail
    decode_s: float


def fault_effects(circuit: stim.Circuit) -> tuple[float, np.ndarray, np.ndarray]:
    """The common rate ``p`` of the circuit's noise locations; the effect of each Pauli at each
    location, ``(locations, 3, detectors + observables)`` uint8; and each location's number of Paulis."""
    check_circuit(circuit)
    noiseless = stim.Circuit()
    locations = []  # (place in the noiseless circuit, qubit, Paulis)
    rates = set()
    for inst in circuit.flattened():
        gate = stim.gate_data(inst.name)
        if inst.name in CHANNELS:
            rates.add(inst.gate_args_copy()[0])
            locations += [(len(noiseless), t.value, CHANNELS[inst.name]) for t in inst.targets_copy()]
            noiseless.append("TICK")  # holds the place (and keeps the instructions around it apart)
        elif gate.is_noisy_gate and (any(inst.gate_args_copy()) or not gate.produces_measurements):
            args = ", ".join(f"{a:g}" for a in inst.gate_args_copy())
            raise ValueError(f"stratified sampling needs every noise location to be a single-qubit Pauli channel "
                             f"({', '.join(CHANNELS)}); the circuit has {inst.name}({args})")
        else:
            noiseless.append(inst)
    if not locations:
        raise ValueError("the circuit has no noise locations to stratify over")
    if len(rates) != 1:
        raise ValueError(f"stratified sampling needs one rate for every noise location, the circuit has {sorted(rates)}")
    width = circuit.num_detectors + circuit.num_observables
    effects = np.zeros((len(locations), 3, width), np.uint8)
    for i, (at, qubit, paulis) in enumerate(locations):
        for k, pauli in enumerate(paulis):
            faulty = noiseless[:at] + stim.Circuit(f"{pauli}_ERROR(1) {qubit}") + noiseless[at + 1:]
            dets, obs = faulty.compile_detector_sampler().sample(1, separate_observables=True)
            effects[i, k] = np.concatenate([dets[0], obs[0]])
    return rates.pop(), effects, np.array([len(paulis) for _, _, paulis in locations])


def binomial_pmf(n: int, p: float) -> np.ndarray:
    """P(W = w) for w = 0..n, W binomial (n, p); in log space, since ``math.comb`` overflows a float
    beyond n ~ 1000.

    >>> binomial_pmf(3, 0.5).round(6).tolist()
    [0.125, 0.375, 0.375, 0.125]
    """
    w = np.arange(n + 1)
    if p in (0.0, 1.0):
        return (w == round(p * n)).astype(float)
    log_comb = np.array([math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) for k in w])
    return np.exp(log_comb + w * math.log(p) + (n - w) * math.log1p(-p))


def _enumerate(kinds: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every fault pattern of weight ``w``: locations (m, w), Pauli indices (m, w) and each pattern's
    probability given ``W = w``."""
    n = len(kinds)
    locs, paulis = [], []
    for subset in itertools.combinations(range(n), w):
        for choice in itertools.product(*(range(kinds[j]) for j in subset)):
            locs.append(subset)
            paulis.append(choice)
    locs = np.array(locs, dtype=np.int64).reshape(len(locs), w)
    paulis = np.array(paulis, dtype=np.int64).reshape(len(locs), w)
    return locs, paulis, 1.0 / (math.comb(n, w) * np.prod(kinds[locs], axis=1))


def _sample(kinds: np.ndarray, w: int, m: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """``m`` random fault patterns of weight ``w >= 1`` (weight 0 is always enumerated): distinct
    uniform locations, uniform Paulis."""
    locs = np.argpartition(rng.random((m, len(kinds))), w - 1, axis=1)[:, :w]
    return locs, (rng.random((m, w)) * kinds[locs]).astype(np.int64)


def stratified_logical_error_rates(circuit: stim.Circuit, decoders: dict[str, Decoder], samples: int = 100_000,
                                   tail: float = 1e-12, seed: int = 0, batch_size: int = 100_000,
                                   progress: bool = False) -> dict[str, StratifiedResult]:
    """Logical error rate per shot of each decoder on ``circuit``, stratified on the number of faults.

    Every stratum of at most ``samples`` fault patterns is enumerated; larger ones are sampled
    (``samples`` patterns, seeded, the same for every decoder).  Weights run up to the first
    whose upper tail holds less than ``tail`` of the probability."""
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    p, effects, kinds = fault_effects(circuit)
    n, nd = len(kinds), circuit.num_detectors
    prob = binomial_pmf(n, p)
    beyond = np.append(np.cumsum(prob[::-1])[::-1][1:], 0.0)  # P(W > w)
    top = int(np.argmax(beyond <= tail))  # the last weight measured: the first whose upper tail is below ``tail``
    rng = np.random.default_rng(seed)
    totals = {name: dict(ler=0.0, var=0.0, patterns=0, failures=0, decode_s=0.0) for name in decoders}
    exhaustive = True
    batch = max(1, min(batch_size, 20_000_000 // n))  # bounds the memory of the random draws
    for w in tqdm(range(0, top + 1), disable=not progress, desc="fault weights", leave=False):
        enumerated = math.comb(n, w) * int(kinds.max()) ** w <= samples
        exhaustive &= enumerated
        for name, (f, count, fails, seconds) in _stratum(effects, kinds, nd, w, None if enumerated else samples,
                                                          decoders, rng, batch).items():
            t = totals[name]
            t["ler"] += prob[w] * f
            t["var"] += 0.0 if enumerated else prob[w] ** 2 * f * (1 - f) / count
            t["patterns"] += count
            t["failures"] += fails
            t["decode_s"] += seconds
    results = {}
    for name, t in totals.items():
        half = Z95 * math.sqrt(t["var"])
        results[name] = StratifiedResult(ler=t["ler"], ci_low=max(0.0, t["ler"] - half),
                                         ci_high=t["ler"] + half + beyond[top], patterns=t["patterns"],
                                         failures=t["failures"], exhaustive=exhaustive, decode_s=t["decode_s"])
    return results


def _stratum(effects, kinds, nd, w, samples, decoders, rng, batch) -> dict[str, tuple[float, int, int, float]]:
    """Each decoder's failure rate on weight-``w`` faults (every pattern when ``samples`` is None),
    with the patterns decoded, the failures and the decoding time."""
    if samples is None:
        all_locs, all_paulis, chance = _enumerate(kinds, w)
    count = len(all_locs) if samples is None else samples
    failed = {name: np.zeros(count, bool) for name in decoders}
    seconds = dict.fromkeys(decoders, 0.0)
    for start in range(0, count, batch):
        part = slice(start, min(start + batch, count))
        if samples is None:
            locs, paulis = all_locs[part], all_paulis[part]
        else:
            locs, paulis = _sample(kinds, w, part.stop - part.start, rng)
        shots = np.bitwise_xor.reduce(effects[locs, paulis], axis=1)
        for name, decoder in decoders.items():
            begin = time.perf_counter()
            flips = decoder.decode_batch(shots[:, :nd])
            seconds[name] += time.perf_counter() - begin
            failed[name][part] = (flips != shots[:, nd:].astype(bool)).any(axis=1)
    return {name: (float(chance @ fails) if samples is None else float(fails.mean()), count, int(fails.sum()),
                   seconds[name]) for name, fails in failed.items()}
