"""DGR: decoding-graph re-weighting around MWPM, learned from the decoder's own matchings.

The decoder starts from the (possibly wrong) detector error model it is given.  Each decoded
shot's matching (pymatching's matched edges) is a guess of the errors that happened; over
many shots, how often each decoding-graph edge is matched estimates its probability, and
how often two edges are matched together estimates their joint probability.

- **Alignment re-weighting**: re-estimate every edge's probability from its match count
  (a Gamma prior centred on the model's probability, worth ``prior_events`` events, keeps
  rarely matched edges sensible), rebuild the weights ``log((1-p)/p)``, and repeat, since the
  matchings under better weights give better counts.
- **Correlation re-weighting**: pairs of edges matched together more often than independence
  predicts become correlated error mechanisms ``e ^ f`` of the excess probability; decoding
  then runs two matching passes (pymatching's correlated mode): the second pass lowers the
  weights of the edges correlated with those in the first pass's matching.

Offline: :meth:`DGRDecoder.calibrate` on a batch of detection events.  Online
(``online=True``): statistics accumulate as shots are decoded and the weights are
re-estimated every ``update_every`` shots.

>>> from qec.codes import surface_code, hot_qubits
>>> true = hot_qubits(3, 0.002, seed=0)
>>> dgr = DGRDecoder.from_circuit(surface_code(3, 0.002))
>>> calib = true.compile_detector_sampler(seed=1).sample(2000)
>>> dgr.calibrate(calib, iterations=2).shots
2000
>>> dets, obs = true.compile_detector_sampler(seed=2).sample(1000, separate_observables=True)
>>> dgr.decode_batch(dets).shape
(1000, 1)
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pymatching
import stim

from qec.decoders.base import Decoder
from qec.graph import DecodingGraph


class DGRDecoder(Decoder):
    """MWPM with edge weights (and edge-pair correlations) learned from its own matchings."""

    def __init__(self, dem: stim.DetectorErrorModel, iterations: int = 3, correlations: bool = True,
                 prior_events: float = 2.0, min_pair_count: int = 5, online: bool = False,
                 update_every: int = 5000):
        super().__init__(dem)
        if iterations < 1:
            raise ValueError(f"iterations must be >= 1, got {iterations}")
        if update_every < 1:
            raise ValueError(f"update_every must be >= 1, got {update_every}")
        self.graph = DecodingGraph.from_dem(dem)
        self.iterations, self.correlations = int(iterations), bool(correlations)
        self.prior_events, self.min_pair_count = float(prior_events), int(min_pair_count)
        self.online, self.update_every = bool(online), int(update_every)
        self.p = self.graph.p.copy()
        self.pairs: list[tuple[int, int, float]] = []
        self.calibration_shots = 0
        self._reset_statistics()
        self._rebuild()

    @property
    def shots(self) -> int:
        """Shots behind the current statistics."""
        return self._shots

    def _reset_statistics(self) -> None:
        self._shots, self._since_update = 0, 0
        self.edge_counts = np.zeros(self.graph.num_edges)
        self.pair_counts: Counter = Counter()

    def _rebuild(self) -> None:
        single = self.p.copy()
        for e, f, q in self.pairs:  # the pair mechanisms carry part of each edge's marginal
            single[e] -= q
            single[f] -= q
        single = np.maximum(single, 0.1 * self.p)
        dem = self.graph.to_dem(single, self.pairs)
        self.matching = pymatching.Matching.from_detector_error_model(dem, enable_correlations=bool(self.pairs))

    def matched_edges(self, dets: np.ndarray) -> list[np.ndarray]:
        """The decoding-graph edge indices of each shot's matching under the current weights."""
        dets = self.check_detection_events(dets)
        out = []
        for row in dets:
            if not row.any():
                out.append(np.zeros(0, dtype=np.int64))
                continue
            pairs = self.matching.decode_to_edges_array(row, enable_correlations=bool(self.pairs))
            out.append(self.graph.edge_ids(pairs[:, 0], pairs[:, 1]))
        return out

    def observe(self, matched: list[np.ndarray]) -> None:
        """Add the matchings of decoded shots to the edge and edge-pair statistics."""
        for edges in matched:
            self.edge_counts[edges] += 1
            if len(edges) > 1:
                edges = np.sort(edges)
                for i in range(len(edges)):
                    for j in range(i + 1, len(edges)):
                        self.pair_counts[(int(edges[i]), int(edges[j]))] += 1
        self._shots += len(matched)
        self._since_update += len(matched)

    def reweight(self, correlations: bool | None = None) -> None:
        """Re-estimate the edge probabilities (and, if asked, the correlated pairs) and rebuild."""
        n = self._shots
        prior = np.maximum(self.graph.p, 1e-12)
        self.p = (self.edge_counts + self.prior_events) / (n + self.prior_events / prior)
        self.pairs = []
        if self.correlations if correlations is None else correlations:
            for (e, f), count in self.pair_counts.items():
                expected = self.edge_counts[e] * self.edge_counts[f] / n
                if count >= self.min_pair_count and count > 2 * expected:
                    self.pairs.append((e, f, (count - expected) / n))
        self._since_update = 0
        self._rebuild()

    def calibrate(self, dets: np.ndarray, iterations: int | None = None) -> "DGRDecoder":
        """Offline DGR on a calibration batch: ``iterations`` alignment passes, then (with
        ``correlations``) the pair statistics of the aligned matchings.  Returns ``self``."""
        iterations = self.iterations if iterations is None else iterations
        if iterations < 1:
            raise ValueError(f"iterations must be >= 1, got {iterations}")
        for it in range(iterations):
            self._reset_statistics()
            self.observe(self.matched_edges(dets))
            self.reweight(correlations=self.correlations and it == iterations - 1)
        self.calibration_shots = len(dets)
        return self

    def _decode(self, dets: np.ndarray) -> np.ndarray:
        if not self.online:
            return self.matching.decode_batch(dets, enable_correlations=bool(self.pairs))
        flips = np.zeros((len(dets), self.num_observables), dtype=bool)
        bits = np.arange(self.num_observables, dtype=np.uint64)
        for start in range(0, len(dets), self.update_every):
            chunk = dets[start:start + self.update_every]
            matched = self.matched_edges(chunk)
            masks = np.array([np.bitwise_xor.reduce(self.graph.obs[m]) if len(m) else 0 for m in matched],
                             dtype=np.uint64)
            flips[start:start + len(chunk)] = (masks[:, None] >> bits) & np.uint64(1)
            self.observe(matched)
            if self._since_update >= self.update_every:
                self.reweight()
        return flips
