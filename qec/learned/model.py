"""The detector transformer: self-attention over all detectors, plus data-qubit and observable tokens.

Tokens are the detectors of a memory circuit that fired in a shot (embedding of the
stabilizer type and of the position), one query token per data qubit and one per logical
observable. A detector that did not fire carries no token: the fired set with positions is
the whole syndrome, and at useful error rates it is a small fraction of the detectors, so
attention costs scale with the number of detection events; shots in a batch are padded to
the largest count and the padding is masked out of attention. Positions are the distances of a token to the four code boundaries and to the
first and last round, in lattice units, encoded by sinusoids of fixed periods: the same
weights apply to any distance and any number of rounds, which is what transfer needs.
Two heads read the output: a per-data-qubit error head (X and Z flip logits, the local
loss) and an observable-flip head (the global loss).

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

import math

import numpy as np
import torch
from torch import nn

from qec.learned.layout import NUM_DET_TYPES, CodeLayout

PERIODS = (2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
NUM_POS_AXES = 6          # distances to x-min, x-max, y-min, y-max boundary, first and last round
DATA_TYPE = NUM_DET_TYPES  # token type of the data-qubit queries
MAX_OBSERVABLES = 4       # observable tokens get types DATA_TYPE + 1 + k


def position_axes(layout: CodeLayout) -> np.ndarray:
    """(tokens, 6) distances to the boundaries and end rounds for detectors then data qubits.

    Coordinates are divided by the data-qubit spacing, so codes of any size share one scale.
    """
    data_xy = layout.data_coords
    diffs = np.abs(data_xy[:, None, :] - data_xy[None, :, :]).reshape(-1)
    spacing = diffs[diffs > 0].min() if (diffs > 0).any() else 1.0
    lo, hi = data_xy.min(axis=0), data_xy.max(axis=0)
    t = layout.det_coords[:, 2]
    t_lo, t_hi = t.min(), t.max()
    xy = np.concatenate([layout.det_coords[:, :2], data_xy])
    tt = np.concatenate([t, np.full(layout.num_data, t_hi)])
    return np.stack([(xy[:, 0] - lo[0]) / spacing, (hi[0] - xy[:, 0]) / spacing,
                     (xy[:, 1] - lo[1]) / spacing, (hi[1] - xy[:, 1]) / spacing,
                     tt - t_lo, t_hi - tt], axis=1)


def sinusoids(axes: np.ndarray) -> np.ndarray:
    """Fixed-period sin/cos features (tokens, axes * periods * 2) of position axes."""
    angles = axes[:, :, None] * (2 * math.pi / np.asarray(PERIODS))[None, None, :]
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=2).reshape(len(axes), -1)


class DetectorTransformer(nn.Module):
    """Transformer encoder over detector, data-qubit and observable tokens (see module docs).

    Its weights do not depend on the code; :meth:`bind` attaches a :class:`CodeLayout`.
    """

    def __init__(self, d_model: int = 64, heads: int = 4, layers: int = 3, ff_mult: int = 2):
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by heads ({heads})")
        self.config = {"d_model": d_model, "heads": heads, "layers": layers, "ff_mult": ff_mult}
        self.type_emb = nn.Embedding(DATA_TYPE + 1 + MAX_OBSERVABLES, d_model)
        self.pos_proj = nn.Linear(NUM_POS_AXES * len(PERIODS) * 2, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, ff_mult * d_model, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.err_head = nn.Linear(d_model, 2)
        self.obs_head = nn.Sequential(nn.Linear(d_model, d_model), nn.GELU(), nn.Linear(d_model, 1))
        self.layout: CodeLayout | None = None

    def bind(self, layout: CodeLayout) -> None:
        """Attach the token layout of a code (detector, data-qubit and observable tokens)."""
        if layout.num_observables > MAX_OBSERVABLES:
            raise ValueError(f"at most {MAX_OBSERVABLES} observables, the code has {layout.num_observables}")
        device = self.type_emb.weight.device
        o = layout.num_observables
        types = np.concatenate([layout.det_types, np.full(layout.num_data, DATA_TYPE),
                                DATA_TYPE + 1 + np.arange(o)])
        pos = np.concatenate([sinusoids(position_axes(layout)), np.zeros((o, NUM_POS_AXES * len(PERIODS) * 2))])
        self.register_buffer("tok_types", torch.as_tensor(types, dtype=torch.long, device=device), persistent=False)
        self.register_buffer("tok_pos", torch.as_tensor(pos, dtype=torch.float32, device=device), persistent=False)
        self.layout = layout

    def forward(self, dets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits of observable flips (B, O) and data-qubit errors (B, 2n: X then Z) for events (B, D)."""
        if self.layout is None:
            raise RuntimeError("call bind(layout) before using the model")
        lay = self.layout
        o, n, d = lay.num_observables, lay.num_data, lay.num_detectors
        b = dets.shape[0]
        base = self.type_emb(self.tok_types) + self.pos_proj(self.tok_pos)  # (d + n + o, model)
        fired, pad = fired_detectors(dets)
        x = torch.cat([base[fired], base[d:].expand(b, n + o, -1)], dim=1)
        mask = torch.cat([pad, pad.new_zeros(b, n + o)], dim=1)
        h = self.norm(self.encoder(x, src_key_padding_mask=mask))
        k = fired.shape[1]
        err_logits = self.err_head(h[:, k:k + n]).transpose(1, 2).reshape(b, 2 * n)
        obs_logits = self.obs_head(h[:, k + n:]).squeeze(-1)
        return obs_logits, err_logits


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
