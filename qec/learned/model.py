"""The detector transformer: self-attention over all detectors, plus data-qubit and observable tokens.

Tokens are the detectors of a memory circuit that fired in a shot, one query token per data
qubit and one per logical observable. A detector that did not fire carries no token: the
fired set with positions is the whole syndrome, and at useful error rates it is a small
fraction of the detectors, so attention costs scale with the number of detection events;
shots in a batch are padded to the largest count and the padding is masked out of attention.

Nothing in the weights depends on the code's size, which is what transfer across distances
needs:

- a token's features are its type (stabilizer type, data qubit, observable) and its
  distances to each code boundary and to the first and last round (in data-qubit spacings
  and rounds), encoded as ``exp(-distance / s)`` for a few scales ``s`` (1 near a boundary,
  0 far from it, so a larger code only adds tokens that look like the bulk of a smaller
  one) and as sinusoids of fixed periods (which tell positions apart);
- attention scores get a learned bias per head for each pair of tokens, looked up from
  their kinds (detector, data qubit, observable) and their displacement ``(dx, dy, dt)`` in
  half data-qubit spacings and rounds, clipped to a window: translation invariant, like the
  matching problem it learns. Between an observable and a data qubit the bias says whether
  the qubit is in the observable's support;
- with ``local_attention=True``, detector and data-qubit tokens attend only to detector and
  data-qubit tokens within ``LOCAL_REACH`` half spacings in x and y (any round), and only
  the observable tokens read the whole code. A model trained on one distance then meets the
  same neighbourhoods at another (with global attention, a larger code's many far tokens
  dilute every token's attention), which is what makes fine-tuning across distances fast.

Two heads read the output: a per-data-qubit error head (X and Z flip logits, the local loss)
and an observable-flip head (the global loss). The observable logit is the parity the error
head implies, ``P(odd) = (1 - prod(1 - 2 p_i)) / 2`` over the errors that flip the observable,
plus a correction read from the observable's token: the parity part means the same at every
distance, so a model moved to a larger code starts from a sensible global prediction. With
``line_readout=True`` that parity is averaged over every reading of the observable (each
translate of its support, with the detectors between them: :class:`ObservableReadings`), so it
uses the errors predicted across the whole code. With both options, a model trained at d=5
decodes d=7 without fine-tuning at 1.25x MWPM's LER (code capacity; 28x without them).

With ``matching_prior=True`` the model is also given MWPM's prediction of each observable
(computed by the caller, e.g. pymatching on the same detection events): it is embedded into
the observable's token and added to the observable logit as ``w * (2 m - 1)`` with a learned
``w`` (starting at 4, about MWPM's log-odds of being right), so the model starts out agreeing
with MWPM and learns where to overrule it.

>>> import stim, torch
>>> from qec.learned.layout import CodeLayout
>>> c = stim.Circuit.generated("surface_code:rotated_memory_z", distance=3, rounds=2,
...                            before_round_data_depolarization=0.01)
>>> model = DetectorTransformer(d_model=32, heads=4, layers=1)
>>> model.bind(CodeLayout.from_circuit(c))
>>> obs_logits, err_logits = model(torch.zeros(5, c.num_detectors, dtype=torch.long))
>>> tuple(obs_logits.shape), tuple(err_logits.shape)
((5, 1), (5, 18))
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from qec.learned.layout import NUM_DET_TYPES, CodeLayout, observable_representatives

SCALES = (0.5, 1.0, 2.0)  # closeness features exp(-distance / s), distances in data-qubit spacings
PERIODS = (2.0, 4.0, 8.0, 16.0, 32.0)  # sinusoid features sin, cos(2 pi distance / period)
NUM_EDGES = 6             # the four code boundaries, the first and the last round
DATA_TYPE = NUM_DET_TYPES  # token type of the data-qubit queries
MAX_OBSERVABLES = 4       # observable tokens get types DATA_TYPE + 1 + k
REACH_XY, REACH_T = 6, 3  # displacement window: half spacings in x and y, rounds in t
LOCAL_REACH = 2           # local attention: half spacings in x and y
_WINDOW = (2 * REACH_XY + 1) ** 2 * (2 * REACH_T + 1)
_KINDS = 3                # detector, data qubit, observable


def token_geometry(layout: CodeLayout) -> tuple[np.ndarray, np.ndarray]:
    """Positions (tokens, 3) and boundary distances (tokens, 6) of the detectors, then the data qubits.

    Positions are (x, y) in half data-qubit spacings (detectors sit at half-integer points of
    the data-qubit grid, so these are integers) and the round t; data qubits sit at the last
    round. Distances are to the x-min, x-max, y-min, y-max boundaries in spacings, and to the
    first and last round.
    """
    data_xy = layout.data_coords
    diffs = np.abs(data_xy[:, None, :] - data_xy[None, :, :]).reshape(-1)
    spacing = diffs[diffs > 0].min() if (diffs > 0).any() else 1.0
    lo, hi = data_xy.min(axis=0), data_xy.max(axis=0)
    t = layout.det_coords[:, 2]
    xy = (np.concatenate([layout.det_coords[:, :2], data_xy]) - lo) / spacing
    tt = np.concatenate([t, np.full(layout.num_data, t.max())]) - t.min()
    width = (hi - lo) / spacing
    positions = np.column_stack([np.round(2 * xy), tt])
    edges = np.column_stack([xy[:, 0], width[0] - xy[:, 0], xy[:, 1], width[1] - xy[:, 1], tt, tt.max() - tt])
    return positions, edges


def edge_features(edges: np.ndarray) -> np.ndarray:
    """Closeness ``exp(-distance / s)`` and sinusoids of the boundary distances (tokens, NUM_EDGE_FEATURES)."""
    edges = np.clip(edges, 0, None)[:, :, None]
    angles = edges * (2 * np.pi / np.asarray(PERIODS))
    parts = [np.exp(-edges / np.asarray(SCALES)), np.sin(angles), np.cos(angles)]
    return np.concatenate(parts, axis=2).reshape(len(edges), -1)


NUM_EDGE_FEATURES = NUM_EDGES * (len(SCALES) + 2 * len(PERIODS))


def bias_buckets(layout: CodeLayout, positions: np.ndarray) -> np.ndarray:
    """(tokens, tokens) index into the bias table for every pair of tokens (detectors, data, observables).

    ``positions``: of the detector and data-qubit tokens, from :func:`token_geometry`.
    """
    d, n, o = layout.num_detectors, layout.num_data, layout.num_observables
    kind = np.repeat([0, 1, 2], [d, n, o])
    delta = positions[None, :, :] - positions[:, None, :]
    dx, dy = (np.clip(delta[..., k], -REACH_XY, REACH_XY) + REACH_XY for k in (0, 1))
    dt = np.clip(delta[..., 2], -REACH_T, REACH_T) + REACH_T
    window = ((dx * (2 * REACH_XY + 1) + dy) * (2 * REACH_T + 1) + dt).astype(np.int64)
    full = np.zeros((d + n + o, d + n + o), dtype=np.int64)
    full[:d + n, :d + n] = window
    support = layout.err_obs[:n].T | layout.err_obs[n:].T  # (o, n): data qubits in each observable
    full[d + n:, d:d + n] = support                       # observable -> data qubit: in support or not
    full[d:d + n, d + n:] = support.T                     # and back
    pair = kind[:, None] * _KINDS + kind[None, :]
    return pair * _WINDOW + full


def far_pairs(positions: np.ndarray, o: int, reach: int = LOCAL_REACH) -> np.ndarray:
    """(tokens, tokens) True where local attention forbids the query (row) to attend to the key (column).

    ``positions`` of the detector and data-qubit tokens (:func:`token_geometry`), then ``o``
    observable tokens. Detector and data-qubit tokens attend only to detector and data-qubit
    tokens within ``reach`` half spacings in x and y (any round); observable tokens attend to everything.
    """
    apart = np.abs(positions[None, :, :2] - positions[:, None, :2]).max(axis=2) > reach
    far = np.ones((len(positions) + o, len(positions) + o), dtype=bool)
    far[:len(positions), :len(positions)] = apart
    far[len(positions):] = False
    return far


class DetectorTransformer(nn.Module):
    """Transformer encoder over detector, data-qubit and observable tokens (see module docs).

    Its weights do not depend on the code; :meth:`bind` attaches a :class:`CodeLayout`.
    """

    def __init__(self, d_model: int = 64, heads: int = 4, layers: int = 3, ff_mult: int = 2,
                 matching_prior: bool = False, local_attention: bool = False, line_readout: bool = False):
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by heads ({heads})")
        self.config = {"d_model": d_model, "heads": heads, "layers": layers, "ff_mult": ff_mult,
                       "matching_prior": matching_prior, "local_attention": local_attention,
                       "line_readout": line_readout}
        self.type_emb = nn.Embedding(DATA_TYPE + 1 + MAX_OBSERVABLES, d_model)
        self.edge_proj = nn.Linear(NUM_EDGE_FEATURES, d_model)
        self.pair_bias = nn.Embedding(_KINDS * _KINDS * _WINDOW, heads)
        nn.init.zeros_(self.pair_bias.weight)
        self.blocks = nn.ModuleList(Block(d_model, heads, ff_mult * d_model) for _ in range(layers))
        self.norm = nn.LayerNorm(d_model)
        self.err_head = nn.Linear(d_model, 2)
        self.obs_head = nn.Sequential(nn.Linear(d_model, d_model), nn.GELU(), nn.Linear(d_model, 1))
        if matching_prior:
            self.prior_emb = nn.Embedding(2, d_model)
            nn.init.zeros_(self.prior_emb.weight)
            self.prior_weight = nn.Parameter(torch.tensor(4.0))
        self.layout: CodeLayout | None = None
        self.readings: ObservableReadings | None = None

    @property
    def matching_prior(self) -> bool:
        return self.config["matching_prior"]

    def bind(self, layout: CodeLayout) -> None:
        """Attach the token layout of a code (detector, data-qubit and observable tokens)."""
        if layout.num_observables > MAX_OBSERVABLES:
            raise ValueError(f"at most {MAX_OBSERVABLES} observables, the code has {layout.num_observables}")
        device = self.type_emb.weight.device
        o = layout.num_observables
        types = np.concatenate([layout.det_types, np.full(layout.num_data, DATA_TYPE),
                                DATA_TYPE + 1 + np.arange(o)])
        positions, edges = token_geometry(layout)
        edges = np.concatenate([edge_features(edges), np.zeros((o, NUM_EDGE_FEATURES))])
        self.register_buffer("tok_types", torch.as_tensor(types, dtype=torch.long, device=device), persistent=False)
        self.register_buffer("tok_edges", torch.as_tensor(edges, dtype=torch.float32, device=device), persistent=False)
        self.register_buffer("buckets", torch.as_tensor(bias_buckets(layout, positions), device=device), persistent=False)
        blocked = torch.as_tensor(far_pairs(positions, o), device=device) if self.config["local_attention"] else None
        self.register_buffer("blocked", blocked, persistent=False)
        self.register_buffer("flips_obs", torch.as_tensor(layout.err_obs.T, dtype=torch.bool, device=device),
                             persistent=False)
        self.readings = ObservableReadings(layout).to(device) if self.config["line_readout"] else None
        self.layout = layout

    def forward(self, dets: torch.Tensor, prior: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits of observable flips (B, O) and data-qubit errors (B, 2n: X then Z) for events (B, D).

        ``prior`` (B, O): MWPM's observable flips, required by (and only by) a matching-prior model.
        """
        if self.layout is None:
            raise RuntimeError("call bind(layout) before using the model")
        if (prior is None) == self.matching_prior:
            raise ValueError("a matching-prior model needs prior= (MWPM's observable flips); other models take none")
        lay = self.layout
        o, n, d = lay.num_observables, lay.num_data, lay.num_detectors
        b = dets.shape[0]
        base = self.type_emb(self.tok_types) + self.edge_proj(self.tok_edges)  # (d + n + o, model)
        fired, pad = fired_detectors(dets)
        k = fired.shape[1]
        tokens = torch.cat([fired, torch.arange(d, d + n + o, device=dets.device).expand(b, -1)], dim=1)
        x = base[tokens]
        if prior is not None:
            prior = prior.long()
            x = torch.cat([x[:, :k + n], x[:, k + n:] + self.prior_emb(prior)], dim=1)
        pairs = (tokens[:, :, None], tokens[:, None, :])
        bias = self.pair_bias(self.buckets[pairs])  # (B, L, L, heads)
        hidden = torch.cat([pad, pad.new_zeros(b, n + o)], dim=1)[:, None, :]  # padding is never attended to
        if self.blocked is not None:
            hidden = hidden | self.blocked[pairs]
        bias = bias.masked_fill(hidden[..., None], float("-inf")).permute(0, 3, 1, 2)
        for block in self.blocks:
            x = block(x, bias)
        h = self.norm(x)
        err_logits = self.err_head(h[:, k:k + n]).transpose(1, 2).reshape(b, 2 * n)
        parity = parity_logits(err_logits, self.flips_obs) if self.readings is None else self.readings(err_logits, dets)
        obs_logits = self.obs_head(h[:, k + n:]).squeeze(-1) + parity
        if prior is not None:
            obs_logits = obs_logits + self.prior_weight * (2 * prior - 1)
        return obs_logits, err_logits


def parity_logits(err_logits: torch.Tensor, support: torch.Tensor) -> torch.Tensor:
    """Logit (B, O) that an odd number of the errors in each ``support`` row (O, E) occurred.

    Errors are taken as independent with logits ``err_logits`` (B, E):
    ``1 - 2 P(odd) = prod(1 - 2 p_i) = prod(-tanh(l_i / 2))``.

    >>> parity_logits(torch.tensor([[0.0, -30.0, 30.0]]), torch.tensor([[False, True, True]])).item() > 10
    True
    """
    signed = torch.where(support[None], -torch.tanh(err_logits[:, None, :] / 2), 1.0).prod(dim=-1)
    signed = signed.clamp(-1 + 1e-6, 1 - 1e-6)
    return torch.log1p(-signed) - torch.log1p(signed)


class ObservableReadings(nn.Module):
    """The observable logits (B, O) as the mean over its readings of the parity the error logits imply.

    Each observable is read on every translate of its support that reads the same observable
    once the flips of a set of detectors are added (:func:`~qec.learned.layout.observable_representatives`):
    the logit of each reading is :func:`parity_logits` on its support, negated where its
    detectors' flips are odd, and the readings of an observable are averaged. Unlike the
    single support, this uses the errors predicted across the whole code, at any distance.
    """

    def __init__(self, layout: CodeLayout):
        super().__init__()
        observable, supports, detectors = observable_representatives(layout)
        weights = np.zeros((len(observable), layout.num_observables), dtype=np.float32)
        weights[np.arange(len(observable)), observable] = 1
        self.register_buffer("supports", torch.as_tensor(supports), persistent=False)
        self.register_buffer("detectors", torch.as_tensor(detectors, dtype=torch.float32), persistent=False)
        self.register_buffer("weights", torch.as_tensor(weights / weights.sum(axis=0)), persistent=False)

    def forward(self, err_logits: torch.Tensor, dets: torch.Tensor) -> torch.Tensor:
        odd = (dets.to(torch.float32) @ self.detectors.T) % 2
        return (parity_logits(err_logits, self.supports) * (1 - 2 * odd)) @ self.weights


class Block(nn.Module):
    """Pre-norm transformer layer whose attention scores get an additive bias (B, heads, L, L)."""

    def __init__(self, d_model: int, heads: int, hidden: int):
        super().__init__()
        self.heads = heads
        self.attn_norm, self.ff_norm = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.attn_out = nn.Linear(d_model, d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, hidden), nn.GELU(), nn.Linear(hidden, d_model))

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, length, width = x.shape
        q, k, v = self.qkv(self.attn_norm(x)).view(b, length, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        x = x + self.attn_out(att.transpose(1, 2).reshape(b, length, width))
        return x + self.ff(self.ff_norm(x))


def fired_detectors(dets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (B, K) of the fired detectors of each shot, K the largest count, and the padding mask.

    >>> idx, pad = fired_detectors(torch.tensor([[0, 1, 1], [1, 0, 0]]))
    >>> idx.tolist(), pad.tolist()
    ([[1, 2], [0, 0]], [[False, False], [False, True]])
    """
    dets = dets.to(torch.uint8)
    counts = dets.sum(dim=1, dtype=torch.long)
    k = int(counts.max()) if len(counts) else 0
    order = torch.argsort(dets, dim=1, descending=True, stable=True)[:, :k]
    pad = torch.arange(k, device=dets.device)[None, :] >= counts[:, None]
    return order.masked_fill(pad, 0), pad
