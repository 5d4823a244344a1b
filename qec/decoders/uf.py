"""Weighted Union-Find decoding (Delfosse-Nickerson, with integer edge lengths), compiled with numba.

Each edge of the decoding graph gets an integer length proportional to its log-likelihood
weight ``log((1 - p) / p)``.  Clusters start at the detection events; every odd cluster that
does not touch the boundary grows its boundary edges by one unit per step (an edge
between two growing clusters grows from both sides), and an edge that reaches its length
merges the clusters at its ends; of the odd clusters, the smallest (fewest vertices) grow
first, as Delfosse and Nickerson prescribe.  A cluster stops growing when its parity is even or it
touches the boundary node.

Peeling then finds the correction inside the grown edges.  Its spanning forest is the fusion
forest: the edges whose growth joined two clusters, so shorter connections come first and each
cluster keeps the one boundary edge it reached first.  Rooted at the boundary, an edge is in the
correction when the subtree below it holds an odd number of detection events.  An odd subtree
of the boundary may leave by any of its grown boundary edges, not only the one it reached first:
it takes the cheapest, counting the tree edges that moving the exit adds or removes (at code
capacity d=7, p=0.05, this takes Union-Find from 1.34x to 1.16x MWPM's logical error rate).

>>> from qec.codes import surface_code
>>> from qec.decoders.mwpm import MWPMDecoder
>>> circuit = surface_code(5, 0.005)
>>> dets, obs = circuit.compile_detector_sampler(seed=0).sample(20_000, separate_observables=True)
>>> errors = {cls.__name__: int((cls.from_circuit(circuit).decode_batch(dets) != obs).any(axis=1).sum())
...           for cls in (UnionFindDecoder, MWPMDecoder)}
>>> errors["UnionFindDecoder"] < 1.3 * errors["MWPMDecoder"]
True
"""

from __future__ import annotations

import numba
import numpy as np
import stim

from qec.decoders.base import Decoder
from qec.graph import DecodingGraph


class UnionFindDecoder(Decoder):
    """Union-Find on the decoding graph of ``dem``; ``resolution`` is the length, in growth
    steps, of an edge of median weight (higher: closer to the weights, slower)."""

    def __init__(self, dem: stim.DetectorErrorModel, resolution: int = 16):
        super().__init__(dem)
        if resolution < 1:
            raise ValueError(f"resolution must be a positive integer, got {resolution}")
        graph = DecodingGraph.from_dem(dem)
        if graph.num_edges == 0:
            raise ValueError("the detector error model has no edges to decode with")
        w = graph.weights()
        self.lengths = np.maximum(1, np.rint(w * resolution / np.median(w))).astype(np.int32)
        self.eu, self.ev, self.eobs = graph.u.astype(np.int32), graph.v.astype(np.int32), graph.obs
        n_nodes = graph.num_detectors + 1
        ends = np.concatenate([self.eu, self.ev])
        order = np.argsort(ends, kind="stable")
        self.adj_edge = (order % graph.num_edges).astype(np.int32)
        self.adj_ptr = np.zeros(n_nodes + 1, dtype=np.int32)
        np.cumsum(np.bincount(ends, minlength=n_nodes), out=self.adj_ptr[1:])
        self._decode(np.zeros((0, self.num_detectors), np.uint8))  # compile (or load from cache) now

    def _decode(self, dets: np.ndarray) -> np.ndarray:
        masks, stuck = _uf_batch(np.ascontiguousarray(dets), self.adj_ptr, self.adj_edge, self.eu, self.ev,
                                 self.lengths, self.eobs)
        if stuck.any():
            shots = np.flatnonzero(stuck)
            raise ValueError(f"detection events of shot(s) {shots[:10].tolist()} cannot be explained by the detector "
                             "error model: an odd number of them lie in a part of the decoding graph with no boundary")
        bits = np.arange(self.num_observables, dtype=np.uint64)
        return ((masks[:, None] >> bits) & np.uint64(1)).astype(bool)


@numba.njit(cache=True)
def _find(parent, x):
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:  # path compression
        nxt = parent[x]
        parent[x] = root
        x = nxt
    return root


@numba.njit(cache=True)
def _uf_batch(dets, adj_ptr, adj_edge, eu, ev, lengths, eobs):
    shots, n_det = dets.shape
    n_nodes = n_det + 1
    boundary = n_det
    n_edges = len(eu)
    out = np.zeros(shots, dtype=np.uint64)
    stuck = np.zeros(shots, dtype=np.bool_)  # an odd cluster that covers its component and has no boundary
    # union-find state, kept clean between shots by resetting only what a shot touched
    parent = np.arange(n_nodes)
    size = np.ones(n_nodes, dtype=np.int64)
    parity = np.zeros(n_nodes, dtype=np.uint8)
    touches_boundary = np.zeros(n_nodes, dtype=np.uint8)
    touches_boundary[boundary] = 1
    nxt = -np.ones(n_nodes, dtype=np.int64)       # vertex lists of the clusters
    tail = np.arange(n_nodes)
    growth = np.zeros(n_edges, dtype=np.int32)
    in_forest = np.zeros(n_edges, dtype=np.uint8)  # the edges whose fusion joined two clusters
    touched_nodes = np.empty(n_nodes, dtype=np.int64)
    is_touched = np.zeros(n_nodes, dtype=np.uint8)
    touched_edges = np.empty(n_edges, dtype=np.int64)
    active = np.empty(n_nodes, dtype=np.int64)
    fuse = np.empty(2 * n_edges, dtype=np.int64)
    stamp = np.zeros(n_nodes, dtype=np.int64)
    # peeling state
    odd = np.zeros(n_nodes, dtype=np.uint8)       # a detection event, then: the subtree holds an odd number
    seen = np.zeros(n_nodes, dtype=np.uint8)
    order = np.empty(n_nodes, dtype=np.int64)
    parent_edge = -np.ones(n_nodes, dtype=np.int64)
    top = -np.ones(n_nodes, dtype=np.int64)       # the subtree of the boundary a vertex lies in
    cost = np.zeros(n_nodes, dtype=np.int64)      # change in length when that subtree leaves here
    exit_vertex = np.empty(n_nodes, dtype=np.int64)
    exit_edge = np.empty(n_nodes, dtype=np.int64)
    exit_cost = np.empty(n_nodes, dtype=np.int64)
    step = 0

    for s in range(shots):
        n_touched = 0
        n_active = 0
        for d in range(n_det):
            if dets[s, d]:
                parity[d] = 1
                odd[d] = 1
                is_touched[d] = 1
                touched_nodes[n_touched] = d
                n_touched += 1
                active[n_active] = d
                n_active += 1
        if n_active == 0:
            continue
        n_tedges = 0
        # --- growth ---
        while True:
            step += 1
            n_live = 0
            for i in range(n_active):  # distinct odd clusters away from the boundary
                r = _find(parent, active[i])
                if parity[r] == 1 and touches_boundary[r] == 0 and stamp[r] != step:
                    stamp[r] = step
                    active[n_live] = r
                    n_live += 1
            n_active = n_live
            if n_active == 0:
                break
            smallest = n_nodes  # the smallest odd clusters grow first
            for i in range(n_active):
                smallest = min(smallest, size[active[i]])
            n_fuse = 0
            grew = False
            for i in range(n_active):
                if size[active[i]] > smallest:
                    continue
                x = active[i]
                while x != -1:
                    for k in range(adj_ptr[x], adj_ptr[x + 1]):
                        e = adj_edge[k]
                        if growth[e] >= lengths[e]:
                            continue
                        if growth[e] == 0:
                            touched_edges[n_tedges] = e
                            n_tedges += 1
                        growth[e] += 1
                        grew = True
                        if growth[e] >= lengths[e]:
                            fuse[n_fuse] = e
                            n_fuse += 1
                    x = nxt[x]
            if not grew:  # the smallest odd clusters have nothing left to grow into
                stuck[s] = True
                break
            for i in range(n_fuse):
                e = fuse[i]
                for y in (eu[e], ev[e]):
                    if is_touched[y] == 0:
                        is_touched[y] = 1
                        touched_nodes[n_touched] = y
                        n_touched += 1
                a = _find(parent, eu[e])
                b = _find(parent, ev[e])
                if a == b:
                    continue
                in_forest[e] = 1
                if size[a] < size[b]:
                    a, b = b, a
                parent[b] = a
                size[a] += size[b]
                parity[a] ^= parity[b]
                touches_boundary[a] |= touches_boundary[b]
                nxt[tail[a]] = b
                tail[a] = tail[b]
        # --- peeling: the fusion forest, rooted at the boundary (then at the remaining detection events) ---
        n_order = 0
        for j in range(-1, n_touched):
            root = boundary if j < 0 else touched_nodes[j]
            if seen[root] or (root != boundary and odd[root] == 0):
                continue
            seen[root] = 1
            head = n_order
            order[n_order] = root
            n_order += 1
            while head < n_order:
                x = order[head]
                head += 1
                for k in range(adj_ptr[x], adj_ptr[x + 1]):
                    e = adj_edge[k]
                    if in_forest[e] == 0:
                        continue
                    y = ev[e] if eu[e] == x else eu[e]
                    if seen[y] == 0:
                        seen[y] = 1
                        parent_edge[y] = e
                        order[n_order] = y
                        n_order += 1
        # the edge above a vertex is in the correction when the vertex's subtree holds an odd number of events
        for i in range(n_order - 1, 0, -1):
            x = order[i]
            e = parent_edge[x]
            if e >= 0:
                odd[ev[e] if eu[e] == x else eu[e]] ^= odd[x]
        # an odd subtree of the boundary may leave by any of its grown boundary edges; leaving at x
        # instead of the subtree's top toggles the tree path between them: take the cheapest exit
        for i in range(n_order):
            x = order[i]
            e = parent_edge[x]
            if e < 0:
                continue
            y = ev[e] if eu[e] == x else eu[e]
            if y == boundary:
                top[x] = x
                cost[x] = 0
                exit_vertex[x] = x
                exit_edge[x] = e
                exit_cost[x] = lengths[e]
            else:
                top[x] = top[y]
                cost[x] = cost[y] + (-lengths[e] if odd[x] else lengths[e])
            t = top[x]
            if t < 0 or odd[t] == 0:
                continue
            for k in range(adj_ptr[x], adj_ptr[x + 1]):
                b = adj_edge[k]
                if ev[b] == boundary and growth[b] >= lengths[b] and cost[x] + lengths[b] < exit_cost[t]:
                    exit_cost[t] = cost[x] + lengths[b]
                    exit_vertex[t] = x
                    exit_edge[t] = b
        mask = np.uint64(0)
        for i in range(n_order):
            x = order[i]
            e = parent_edge[x]
            if e >= 0 and odd[x]:
                mask ^= eobs[e]
            if top[x] == x and odd[x] and exit_vertex[x] != x:
                mask ^= eobs[e] ^ eobs[exit_edge[x]]
                y = exit_vertex[x]
                while y != x:
                    f = parent_edge[y]
                    mask ^= eobs[f]
                    y = ev[f] if eu[f] == y else eu[f]
        out[s] = mask
        # --- reset what this shot touched ---
        for i in range(n_touched):
            x = touched_nodes[i]
            parent[x] = x
            size[x] = 1
            parity[x] = 0
            touches_boundary[x] = 0
            nxt[x] = -1
            tail[x] = x
            is_touched[x] = 0
        for i in range(n_order):
            x = order[i]
            seen[x] = 0
            odd[x] = 0
            parent_edge[x] = -1
            top[x] = -1
        parent[boundary] = boundary
        size[boundary] = 1
        touches_boundary[boundary] = 1
        nxt[boundary] = -1
        tail[boundary] = boundary
        for i in range(n_tedges):
            growth[touched_edges[i]] = 0
            in_forest[touched_edges[i]] = 0
    return out, stuck
