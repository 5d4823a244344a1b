"""The decoding graph of a detector error model: one edge per pair of detectors (or detector
and boundary), with its probability and the observables it flips.

Errors that flip more than two detectors must come decomposed (``decompose_errors=True``);
each component becomes an edge, and parallel edges merge (their probabilities combine as
independent flips).  The boundary is node ``num_detectors``.

>>> import stim
>>> dem = stim.DetectorErrorModel('''
...     error(0.1) D0
...     error(0.2) D0 D1 L0
...     error(0.1) D1 ^ D0 D1 L0
... ''')
>>> g = DecodingGraph.from_dem(dem)
>>> g.u.tolist(), g.v.tolist(), g.p.round(3).tolist(), g.obs.tolist()
([0, 0, 1], [1, 2, 2], [0.26, 0.1, 0.1], [1, 0, 0])
>>> g.edge_ids([0, 2], [1, 0]).tolist()  # edges D0-D1 and D0-boundary
[0, 1]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import stim


@dataclass
class DecodingGraph:
    num_detectors: int
    num_observables: int
    u: np.ndarray    # (E,) int64, the smaller endpoint
    v: np.ndarray    # (E,) int64, the larger endpoint; num_detectors is the boundary
    p: np.ndarray    # (E,) float64 probability that the edge flips
    obs: np.ndarray  # (E,) uint64 bit mask of the observables the edge flips

    @classmethod
    def from_dem(cls, dem: stim.DetectorErrorModel) -> "DecodingGraph":
        if dem.num_observables > 64:
            raise ValueError(f"at most 64 observables are supported, the model has {dem.num_observables}")
        boundary = dem.num_detectors
        edges: dict[tuple[int, int], list] = {}  # (u, v) -> [p, obs mask, p of the mask's largest source]
        for inst in dem.flattened():
            if inst.type != "error":
                continue
            prob = inst.args_copy()[0]
            for dets, mask in _components(inst.targets_copy()):
                if len(dets) > 2:
                    raise ValueError("the detector error model has errors with more than two detectors; "
                                     "build it with decompose_errors=True")
                if not dets:
                    continue
                key = (min(dets), max(dets)) if len(dets) == 2 else (dets[0], boundary)
                if key not in edges:
                    edges[key] = [prob, mask, prob]
                    continue
                entry = edges[key]
                entry[0] = entry[0] * (1 - prob) + prob * (1 - entry[0])
                if prob > entry[2]:  # conflicting observables: keep the likelier mechanism's
                    entry[1], entry[2] = mask, prob
        keys = sorted(edges)
        u = np.array([k[0] for k in keys], dtype=np.int64)
        v = np.array([k[1] for k in keys], dtype=np.int64)
        p = np.array([edges[k][0] for k in keys], dtype=np.float64)
        obs = np.array([edges[k][1] for k in keys], dtype=np.uint64)
        return cls(dem.num_detectors, dem.num_observables, u, v, p, obs)

    @property
    def num_edges(self) -> int:
        return len(self.u)

    def weights(self, p: np.ndarray | None = None) -> np.ndarray:
        """Log-likelihood weights ``log((1 - p) / p)`` (probabilities clipped to (1e-12, 0.5))."""
        p = np.clip(self.p if p is None else p, 1e-12, 0.5 - 1e-12)
        return np.log((1 - p) / p)

    def edge_ids(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Edge index of each detector pair ``(a[i], b[i])``; -1 (or the boundary index) is the boundary."""
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        boundary = self.num_detectors
        a, b = np.where(a < 0, boundary, a), np.where(b < 0, boundary, b)
        keys = np.minimum(a, b) * (boundary + 1) + np.maximum(a, b)
        table = self.u * (boundary + 1) + self.v
        idx = np.searchsorted(table, keys)
        idx = np.minimum(idx, len(table) - 1)
        if not np.array_equal(table[idx], keys):
            raise ValueError("some detector pairs are not edges of the decoding graph")
        return idx

    def to_dem(self, p: np.ndarray | None = None, pairs: list[tuple[int, int, float]] = ()) -> stim.DetectorErrorModel:
        """A graphlike DEM with one error per edge at probability ``p`` (default the graph's),
        plus one decomposed error ``e ^ f`` of probability ``q`` per ``(e, f, q)`` in ``pairs``."""
        p = self.p if p is None else p
        lines = [f"error({pe:.12g}) {self._edge_targets(e)}" for e, pe in enumerate(p) if pe > 0]
        lines += [f"error({q:.12g}) {self._edge_targets(e)} ^ {self._edge_targets(f)}" for e, f, q in pairs if q > 0]
        # declare every detector and observable, so that the model keeps its width
        lines += [f"detector D{self.num_detectors - 1}", f"logical_observable L{self.num_observables - 1}"]
        return stim.DetectorErrorModel("\n".join(lines))

    def _edge_targets(self, e: int) -> str:
        dets = [self.u[e]] if self.v[e] == self.num_detectors else [self.u[e], self.v[e]]
        obs = [f"L{k}" for k in range(self.num_observables) if int(self.obs[e]) >> k & 1]
        return " ".join([f"D{d}" for d in dets] + obs)


def _components(targets: list) -> list[tuple[list[int], int]]:
    """Split an error's targets at ``^`` into (detectors, observable mask) components."""
    parts, dets, mask = [], [], 0
    for t in targets:
        if t.is_separator():
            parts.append((dets, mask))
            dets, mask = [], 0
        elif t.is_relative_detector_id():
            dets.append(t.val)
        elif t.is_logical_observable_id():
            mask ^= 1 << t.val
    parts.append((dets, mask))
    return parts
